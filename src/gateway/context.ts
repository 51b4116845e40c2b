// What every request handler reads: the prebuilt tables and the sinks for records, fixed for the gateway's life.
import type { ConsumerDirectory } from '../policy/consumers.js';
import type { RecordSinks } from './pipeline/record.js';
import type { RoutingTable } from './routing/model-routes.js';

export interface GatewayContext extends RecordSinks {
  routing: RoutingTable;
  consumers: ConsumerDirectory;
  maxBodyBytes: number;
}
