/** The router's subscription engine: graphql-ws on `/graphql`, per-tenant live fan-out, federated payloads. */
export {
  createSubscriptionEngine,
  type SubscriptionEngineOptions,
  type SubscriptionLimits,
  type AttachedEngine,
} from './engine';
export { EngineClose, CloseReason } from './closeCodes';
