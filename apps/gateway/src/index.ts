// Public entry of the gateway for the apps that compose others (quickstart): how to start it,
// where its admin port listens, and its configuration schema. Nothing else of this app is
// imported from outside it.
export { adminAddressOf, startGateway } from './gateway.app.js';
export { gatewayConfigSchema } from './config.js';
