/** What the Auth Service says about itself (Ping). */
export interface PingInfo {
  clusterName: string;
  serverVersion: string;
  proxyPublicAddr: string;
  advancedAccessWorkflows: boolean;
}
