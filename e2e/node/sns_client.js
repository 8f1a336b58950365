// Drives a running Sealpost server with the AWS SDK for JavaScript v3
// (@aws-sdk/client-sns, @aws-sdk/client-sts): a third SigV4 signer, written
// independently of aws-sdk-go-v2 and botocore.
//
// Usage: node sns_client.js sequence|probe ENDPOINT
//
// Credentials and region come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_REGION (passed to the clients explicitly, so no profile or config
// file is read); a CA for HTTPS comes from NODE_EXTRA_CA_CERTS. The caller's
// account is SEALPOST_ACCOUNT (default 000000000000). SEALPOST_JS_MAX_ATTEMPTS
// (default 1) and SEALPOST_JS_CLOCK_OFFSET_MS (default 0: the clients' clock
// offset, which the SDK corrects after a skew error) are for the clock tests.
//
//   sequence  creates a topic, sets and gets attributes, subscribes,
//             publishes, publishes a batch, lists, tags, unsubscribes, deletes
//             and asks STS who is calling, checking each answer.
//   probe     makes a few calls (ListTopics, CreateTopic, Publish,
//             GetCallerIdentity) and reports how each ended, checking nothing:
//             the caller asserts the refusal codes.
//
// Every step prints one JSON line:
//   {"step":"Publish","ok":true,"status":200,"result":{...}}
//   {"step":"ListTopics","ok":false,"status":403,"code":"SignatureDoesNotMatch","fault":"client","message":"..."}
// where ok means the call succeeded (and, in sequence mode, its checks held;
// a failed check has code "CheckFailed"). The last line is
// "js: N passed, M failed"; the exit status is 1 when anything failed in
// sequence mode.
'use strict';
const crypto = require('crypto');
const sns = require('@aws-sdk/client-sns');
const sts = require('@aws-sdk/client-sts');
const { CheckFailed, check, step, call, summary } = require('./steps');

const [mode, endpoint] = process.argv.slice(2);
if (!['sequence', 'probe'].includes(mode) || !endpoint) {
  console.error('usage: node sns_client.js sequence|probe ENDPOINT');
  process.exit(2);
}
const region = process.env.AWS_REGION || 'us-east-1';
const config = {
  endpoint,
  region,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || '',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || '',
  },
  maxAttempts: Number(process.env.SEALPOST_JS_MAX_ATTEMPTS || 1),
  // A clock that is off, as on a laptop back from sleep: the SDK corrects
  // it from the server's Date header when a call fails as skewed.
  systemClockOffset: Number(process.env.SEALPOST_JS_CLOCK_OFFSET_MS || 0),
};
const client = new sns.SNSClient(config);
const stsClient = new sts.STSClient(config);

async function sequence() {
  const prefix = 'js-' + new URL(endpoint).protocol.replace(':', '') + '-' + crypto.randomBytes(4).toString('hex');
  const name = prefix + '-main';
  const account = process.env.SEALPOST_ACCOUNT || '000000000000';
  let topicArn;
  let subArn;

  await step('GetCallerIdentity', async () => {
    const out = await call(stsClient, new sts.GetCallerIdentityCommand({}));
    check(out.result.Account === account, 'Account', out.result);
    check((out.result.Arn || '').startsWith('arn:aws:iam::' + account + ':'), 'Arn', out.result);
    check(out.result.UserId, 'UserId', out.result);
    return out;
  });
  await step('CreateTopic', async () => {
    const out = await call(client, new sns.CreateTopicCommand({
      Name: name,
      Attributes: { DisplayName: 'JS topic' },
      Tags: [{ Key: 'team', Value: 'core' }],
    }));
    check(out.status === 200 && out.requestId, 'status and request id', out);
    check(out.result.TopicArn === 'arn:aws:sns:' + region + ':' + account + ':' + name, 'TopicArn', out.result);
    topicArn = out.result.TopicArn;
    return out;
  });
  await step('SetTopicAttributes', () => call(client, new sns.SetTopicAttributesCommand({
    TopicArn: topicArn, AttributeName: 'DisplayName', AttributeValue: 'Renamed <&> \u00fc',
  })));
  await step('GetTopicAttributes', async () => {
    const out = await call(client, new sns.GetTopicAttributesCommand({ TopicArn: topicArn }));
    const a = out.result.Attributes || {};
    check(a.DisplayName === 'Renamed <&> \u00fc', 'DisplayName', a);
    check(a.Owner === account && a.TopicArn === topicArn, 'Owner and TopicArn', a);
    return { status: out.status, result: { DisplayName: a.DisplayName, Owner: a.Owner } };
  });
  await step('Subscribe', async () => {
    const out = await call(client, new sns.SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: 'arn:aws:sqs:' + region + ':' + account + ':' + prefix + '-q',
      Attributes: { RawMessageDelivery: 'true' },
      ReturnSubscriptionArn: true,
    }));
    check((out.result.SubscriptionArn || '').startsWith(topicArn + ':'), 'SubscriptionArn', out.result);
    subArn = out.result.SubscriptionArn;
    return out;
  });
  await step('GetSubscriptionAttributes', async () => {
    const out = await call(client, new sns.GetSubscriptionAttributesCommand({ SubscriptionArn: subArn }));
    const a = out.result.Attributes || {};
    check(a.RawMessageDelivery === 'true' && a.PendingConfirmation === 'false', 'attributes', a);
    return out;
  });
  await step('ListSubscriptionsByTopic', async () => {
    const out = await call(client, new sns.ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    const subs = out.result.Subscriptions || [];
    check(subs.length === 1 && subs[0].SubscriptionArn === subArn, 'Subscriptions', subs);
    return out;
  });
  await step('Publish', async () => {
    const out = await call(client, new sns.PublishCommand({
      TopicArn: topicArn,
      Subject: 'hello',
      Message: 'from the JS SDK \u20ac',
      MessageAttributes: {
        s: { DataType: 'String', StringValue: 'v' },
        n: { DataType: 'Number', StringValue: '12.5' },
        b: { DataType: 'Binary', BinaryValue: Uint8Array.from([0, 1, 2]) },
      },
    }));
    check((out.result.MessageId || '').length === 36, 'MessageId', out.result);
    return out;
  });
  await step('PublishBatch', async () => {
    const out = await call(client, new sns.PublishBatchCommand({
      TopicArn: topicArn,
      PublishBatchRequestEntries: [
        { Id: 'one', Message: 'first' },
        { Id: 'bad', Message: 'second', Subject: 's'.repeat(120) },
        { Id: 'two', Message: 'third' },
      ],
    }));
    const ok = (out.result.Successful || []).map((e) => e.Id).sort();
    const bad = (out.result.Failed || []).map((e) => [e.Id, e.Code, e.SenderFault]);
    check(JSON.stringify(ok) === '["one","two"]', 'Successful', out.result);
    check(JSON.stringify(bad) === '[["bad","InvalidParameter",true]]', 'Failed', out.result);
    return out;
  });
  await step('ListTopics', async () => {
    const arns = [];
    let pages = 0;
    for await (const page of sns.paginateListTopics({ client }, {})) {
      pages++;
      for (const t of page.Topics || []) {
        arns.push(t.TopicArn);
      }
    }
    check(arns.includes(topicArn), 'topic listed', arns);
    return { status: 200, result: { pages, topics: arns.length } };
  });
  await step('TagResource', () => call(client, new sns.TagResourceCommand({
    ResourceArn: topicArn, Tags: [{ Key: 'env', Value: 'dev' }],
  })));
  await step('UntagResource', () => call(client, new sns.UntagResourceCommand({
    ResourceArn: topicArn, TagKeys: ['team'],
  })));
  await step('ListTagsForResource', async () => {
    const out = await call(client, new sns.ListTagsForResourceCommand({ ResourceArn: topicArn }));
    const tags = (out.result.Tags || []).map((t) => t.Key + '=' + t.Value);
    check(JSON.stringify(tags) === '["env=dev"]', 'Tags', tags);
    return out;
  });
  await step('Unsubscribe', () => call(client, new sns.UnsubscribeCommand({ SubscriptionArn: subArn })));
  await step('DeleteTopic', () => call(client, new sns.DeleteTopicCommand({ TopicArn: topicArn })));
  await step('GetTopicAttributes after delete is NotFound', async () => {
    try {
      await client.send(new sns.GetTopicAttributesCommand({ TopicArn: topicArn }));
    } catch (e) {
      check(e.name === 'NotFoundException' || e.name === 'NotFound', 'error name', e.name);
      check(e.$metadata.httpStatusCode === 404 && e.$fault === 'client', 'status and fault', e.$metadata);
      return { status: e.$metadata.httpStatusCode, result: { code: e.name } };
    }
    throw new CheckFailed('the deleted topic still answers');
  });
}

async function probe() {
  const name = 'js-probe-' + crypto.randomBytes(4).toString('hex');
  await step('ListTopics', () => call(client, new sns.ListTopicsCommand({})));
  await step('CreateTopic', () => call(client, new sns.CreateTopicCommand({ Name: name })));
  await step('Publish', () => call(client, new sns.PublishCommand({
    TopicArn: 'arn:aws:sns:' + region + ':000000000000:' + name, Message: 'm',
  })));
  await step('GetCallerIdentity', () => call(stsClient, new sts.GetCallerIdentityCommand({})));
}

(mode === 'sequence' ? sequence() : probe()).then(() => {
  const anyFailed = summary();
  process.exit(mode === 'sequence' && anyFailed ? 1 : 0);
}, (e) => {
  console.error(e);
  process.exit(1);
});
