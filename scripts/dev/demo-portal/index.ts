/** The demo portal: a relying party of the broker for the demo and the browser tests. */
export { createDemoPortal, type DemoPortal, type DemoPortalOptions, type DemoPortalService } from './portal.ts';
