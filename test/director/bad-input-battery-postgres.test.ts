// Bad input to every operation of /api/openapi.json on a director on PostgreSQL (test/support/bad-input-battery.ts).
import { badInputBattery } from '../support/bad-input-battery.js';

badInputBattery('postgres');
