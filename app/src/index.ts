/** Starts the router and the four subgraphs in one process (npm start, e2e tests, benchmarks). */
export { startStack, type Stack, type StackOptions, type SubgraphName } from './startStack';
export { startApp, checkEmbeddedExposure, isLoopbackHost, type App, type AppConfig, type PartMode } from './startApp';
export { startDemoReceiver, verifyStandardWebhook, type DemoReceiver, type ReceivedWebhook } from './demo/receiver';
export { DEMO_ACCOUNTS, type DemoState } from './demo/seed';
