// GraphQL for webhooks: the endpoints told of backup and restore outcomes, and a test
// delivery. Admins only.
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import type { DeliveryResult } from '../../modules/notifications/webhook-delivery.ts';
import type { Webhook } from '../../modules/notifications/webhook-service.ts';
import { builder } from '../builder.ts';

const WebhookRef = builder.objectRef<Webhook>('Webhook').implement({
  description:
    'An endpoint sent backup.failed, restore.failed and restore.succeeded (and backup.succeeded with onSuccess) as signed JSON POSTs: see the README, "Monitoring and notifications".',
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    onSuccess: t.exposeBoolean('onSuccess', { description: 'Also sent backup.succeeded.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (w) => w.createdAt }),
  }),
});

const WebhookDeliveryRef = builder.objectRef<DeliveryResult>('WebhookDelivery').implement({
  fields: (t) => ({
    deliveryId: t.exposeID('deliveryId', { description: 'As sent in the x-bcp-delivery header.' }),
    ok: t.exposeBoolean('ok', { description: 'The endpoint answered with a 2xx status.' }),
    status: t.exposeInt('status', { nullable: true, description: 'The HTTP status of the last answer; null when there was none.' }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'Why it was not delivered (a status, a refused connection, a timeout).',
    }),
    attempts: t.exposeInt('attempts'),
    durationMs: t.exposeInt('durationMs'),
  }),
});

builder.queryField('webhooks', (t) =>
  t.field({ type: [WebhookRef], authScopes: { admin: true }, resolve: (_root, _args, ctx) => ctx.services.webhooks.list() }),
);

const AddWebhookInput = builder.inputType('AddWebhookInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'An http:// or https:// URL, without a user name or password in it.' }),
    secret: t.string({
      required: false,
      description: 'The key of the HMAC signature, 16 to 256 characters; when omitted, a random one is made and shown once.',
    }),
    onSuccess: t.boolean({ required: false, description: 'Also send backup.succeeded. Default false.' }),
  }),
});

const AddWebhookPayload = builder.objectRef<{ webhook: Webhook; secret: string | null }>('AddWebhookPayload').implement({
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, resolve: (p) => p.webhook }),
    secret: t.exposeString('secret', { nullable: true, description: 'The secret made for it, shown this once; null when you gave one.' }),
  }),
});

const RemoveWebhookInput = builder.inputType('RemoveWebhookInput', { fields: (t) => ({ webhookId: t.id({ required: true }) }) });
const TestWebhookInput = builder.inputType('TestWebhookInput', { fields: (t) => ({ webhookId: t.id({ required: true }) }) });

const RemoveWebhookPayload = builder.objectRef<{ removedId: string }>('RemoveWebhookPayload').implement({
  fields: (t) => ({ removedId: t.exposeID('removedId') }),
});

const TestWebhookPayload = builder.objectRef<{ delivery: DeliveryResult }>('TestWebhookPayload').implement({
  fields: (t) => ({ delivery: t.field({ type: WebhookDeliveryRef, resolve: (p) => p.delivery }) }),
});

builder.mutationFields((t) => ({
  addWebhook: t.field({
    type: AddWebhookPayload,
    args: { input: t.arg({ type: AddWebhookInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'AddWebhookResult' } },
    resolve: (_root, { input }, ctx) => ctx.services.webhooks.add(input),
  }),
  removeWebhook: t.field({
    type: RemoveWebhookPayload,
    args: { input: t.arg({ type: RemoveWebhookInput, required: true }) },
    errors: { types: [NotFoundError], union: { name: 'RemoveWebhookResult' } },
    resolve: async (_root, { input }, ctx) => ({ removedId: await ctx.services.webhooks.remove(String(input.webhookId)) }),
  }),
  testWebhook: t.field({
    type: TestWebhookPayload,
    description: 'Sends a `test` event to the endpoint, once, and says how it went; the attempt is in the audit log.',
    args: { input: t.arg({ type: TestWebhookInput, required: true }) },
    errors: { types: [NotFoundError], union: { name: 'TestWebhookResult' } },
    resolve: async (_root, { input }, ctx) => ({ delivery: await ctx.services.webhooks.test(String(input.webhookId)) }),
  }),
}));
