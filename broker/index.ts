/** The broker's public surface: `createBroker(config)` and the types a host program needs. */
export { createBroker, type Broker, type BrokerOptions } from './broker.ts';
