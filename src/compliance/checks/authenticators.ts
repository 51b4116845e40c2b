// IA-5: consumer keys and admin tokens are rotated within the rotation period, and no expired key is accepted.
import { days, iso, outcome, type Check } from '../check.js';

export const authenticatorRotation: Check = {
  id: 'authenticator-rotation',
  title: 'Keys and admin tokens are rotated in time; expired keys are neither accepted nor still presented',
  description:
    'Lists the unrevoked consumer keys and admin tokens and names each created longer ago than ' +
    'compliance.rotationDays that has not expired; names each key whose last accepted use came after its expiry; and ' +
    "names each expired key a client still presented (refused, 401) to this process's gateway in the period: a client " +
    'that has not rotated. The gateway counts those presentations in memory since it started (a refused call does not ' +
    'say in the ledger which key it sent). The bootstrap admin token (admin.token) is not stored and so not listed.',
  method: 'TEST',
  async run({ store, settings, now, period, expiredKeyPresentations }) {
    const due = now - days(settings.rotationDays);
    const keys = await store.compliance.unrevokedKeys();
    const live = keys.filter((key) => key.expiresAt === null || key.expiresAt > now);
    const problems: string[] = [];
    for (const key of live) {
      if (key.createdAt < due)
        problems.push(
          `consumer "${key.consumer}" key "${key.name}" (${key.id}) created ${iso(key.createdAt)} is older than ${settings.rotationDays} days`,
        );
    }
    const acceptedAfterExpiry = keys.filter((key) => key.expiresAt !== null && key.lastUsedAt !== null && key.lastUsedAt > key.expiresAt);
    for (const key of acceptedAfterExpiry)
      problems.push(
        `consumer "${key.consumer}" key "${key.name}" (${key.id}) was used at ${iso(key.lastUsedAt!)}, after it expired at ${iso(key.expiresAt!)}`,
      );
    const byId = new Map(keys.map((key) => [key.id, key]));
    const presented = [...expiredKeyPresentations].filter(([, seen]) => seen.lastAt >= period.from);
    for (const [id, seen] of presented) {
      const key = byId.get(id);
      const which = key === undefined ? `key ${id}` : `consumer "${key.consumer}" key "${key.name}" (${id})`;
      const expired = key?.expiresAt === null || key?.expiresAt === undefined ? '' : ` expired at ${iso(key.expiresAt)} and`;
      problems.push(
        `${which}${expired} was still presented ${seen.count} times since this gateway started, last at ${iso(seen.lastAt)} (refused)`,
      );
    }
    const tokens = (await store.listAdminTokens()).filter((token) => token.revokedAt === null);
    for (const token of tokens) {
      if (token.createdAt < due)
        problems.push(
          `admin token "${token.name}" (${token.id}, ${token.role}) created ${iso(token.createdAt)} is older than ${settings.rotationDays} days`,
        );
    }
    const staleKeys = live.filter((key) => key.createdAt < due).length;
    const staleTokens = tokens.filter((token) => token.createdAt < due).length;
    return outcome(
      problems,
      `All ${live.length} live consumer keys and ${tokens.length} admin tokens are younger than ${settings.rotationDays} days; no expired key was accepted or presented.`,
      `${staleKeys} keys and ${staleTokens} admin tokens are due for rotation; ${acceptedAfterExpiry.length} keys were accepted after expiry; ${presented.length} expired keys are still presented.`,
      {
        liveKeys: live.length,
        keysDueForRotation: staleKeys,
        expiredUnrevokedKeys: keys.length - live.length,
        keysAcceptedAfterExpiry: acceptedAfterExpiry.length,
        expiredKeysPresented: presented.length,
        adminTokens: tokens.length,
        adminTokensDueForRotation: staleTokens,
      },
    );
  },
};
