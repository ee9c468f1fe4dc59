/**
 * The admin API described: an OpenAPI 3.1 document, served at `/admin/openapi.json`. A test
 * compares it with the admin router's own route table (every route documented, every documented
 * route answering), so the two cannot drift apart.
 */

type Method = 'get' | 'post' | 'delete';

interface Operation {
  readonly summary: string;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly created?: boolean;
}

const code = { type: 'string', pattern: '^\\d{6}$', description: 'GB/T 2260 division code' };
const anyObject = { type: 'object', additionalProperties: true };

/** Every admin operation, by path (OpenAPI template syntax) and method. */
export const adminOperations: Readonly<Record<string, Partial<Record<Method, Operation>>>> = {
  '/me': { get: { summary: 'The operator the key belongs to' } },
  '/cities': {
    get: { summary: 'Member cities (a province operator: its province only)' },
    post: { summary: 'Add a member city', created: true, body: { type: 'object', required: ['code', 'name'], properties: { code, name: { type: 'string' }, registration_scopes: { type: 'array', items: { type: 'string' } } } } },
  },
  '/cities/{code}': { get: { summary: 'A city and its apps' } },
  '/cities/{code}/apps': { post: { summary: 'Register an app of the city', created: true, body: anyObject } },
  '/cities/{code}/initial-access-tokens': { post: { summary: 'Issue an initial access token for dynamic client registration', created: true, body: { type: 'object', properties: { ttl_seconds: { type: 'integer', minimum: 1 } } } } },
  '/apps/{clientId}': { get: { summary: 'An app' }, delete: { summary: 'Remove an app' } },
  '/apps/{clientId}/suspend': { post: { summary: 'Suspend an app: its next login is refused' } },
  '/apps/{clientId}/resume': { post: { summary: 'Resume a suspended app' } },
  '/apps/{clientId}/rotate-secret': { post: { summary: 'Rotate the app\'s client secret (shown once)' } },
  '/audit': { get: { summary: 'The members\' audit trail, newest first' } },
  '/operators': {
    get: { summary: 'Operators (federation operators only)' },
    post: { summary: 'Add an operator; its API key is shown once', created: true, body: { type: 'object', required: ['name', 'role'], properties: { name: { type: 'string' }, role: { enum: ['federation', 'province'] }, province: code } } },
  },
  '/operators/{id}/revoke': { post: { summary: 'Revoke an operator' } },
  '/operators/{id}/rotate-key': { post: { summary: 'Rotate an operator\'s API key (shown once)' } },
};

const parameterOf = (name: string) => ({
  name, in: 'path', required: true,
  schema: name === 'code' ? code : { type: 'string' },
});

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

export function openApiDocument(issuer: string, prefix: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [path, operations] of Object.entries(adminOperations)) {
    const parameters = [...path.matchAll(/\{(\w+)\}/g)].map((match) => parameterOf(match[1]!));
    const entry: Record<string, unknown> = parameters.length ? { parameters } : {};
    for (const [method, operation] of Object.entries(operations) as Array<[Method, Operation]>) {
      entry[method] = {
        summary: operation.summary,
        operationId: `${method}${path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
        ...(operation.body ? { requestBody: { required: true, content: { 'application/json': { schema: operation.body } } } } : {}),
        responses: {
          [operation.created ? '201' : '200']: { description: 'Done', content: { 'application/json': { schema: anyObject } } },
          400: errorResponse('Invalid request; `problems` lists every problem'),
          401: errorResponse('Missing, unknown or revoked operator key'),
          403: errorResponse('Outside the operator\'s province or role'),
          404: errorResponse('No such city, app or operator'),
          503: errorResponse('The store is unavailable'),
        },
      };
    }
    paths[path] = entry;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'tongban admin API', version: '1', description: 'Operators manage member cities, apps and operators. A province operator is confined to its province.' },
    servers: [{ url: new URL(prefix, issuer).href }],
    security: [{ operatorKey: [] }],
    paths,
    components: {
      securitySchemes: { operatorKey: { type: 'http', scheme: 'bearer', description: 'An operator API key, tbo_<id>_<secret>' } },
      schemas: {
        Error: {
          type: 'object', required: ['error', 'error_description'],
          properties: {
            error: { type: 'string' }, error_description: { type: 'string' },
            problems: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } } },
          },
        },
      },
    },
  };
}
