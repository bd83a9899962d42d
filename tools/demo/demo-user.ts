// The demo's VBA user: the reference server logs it in the way VBA's POST /user-authentication
// does; the SDK (passwordLogin) and the CLI (VBAPI_USERNAME ...) both log in with it.
export const DEMO_USER = {
  username: "demo",
  password: "demo-password",
  clientId: "demo-client",
  clientCode: "DEMO",
};
