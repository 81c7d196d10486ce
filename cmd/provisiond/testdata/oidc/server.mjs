// A real OAuth2/OIDC issuer for provisiond's end-to-end test (npm oidc-provider): the client
// credentials grant issues RS256 JWT access tokens for the resource provisiond, with the
// partner and roles as claims. Usage: node server.mjs PORT
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const partners = { 'partner-a': 'secret-a', 'partner-b': 'secret-b' };
const provider = new Provider(issuer, {
  clients: Object.entries(partners).map(([id, secret]) => ({
    client_id: id, client_secret: secret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
  })),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:provisiond',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'tenant:read tenant:create tenant:update tenant:delete',
        audience: 'provisiond',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: async (ctx, token) => ({ partner_id: token.clientId, realm_access: { roles: ['partner-admin'] } }),
});
provider.listen(port, '127.0.0.1', () => console.log(`listening ${issuer}`));
