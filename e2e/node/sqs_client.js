// Drives a running Sealpost server's SQS API with the AWS SDK for
// JavaScript v3 (@aws-sdk/client-sqs: JSON 1.0, MD5 checks of bodies and
// attributes on, queue URLs followed as endpoints).
//
// Usage: node sqs_client.js sequence ENDPOINT
//
// Credentials and region as sns_client.js (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION, NODE_EXTRA_CA_CERTS). Every step prints
// one JSON line as sns_client.js does; the last line is
// "js: N passed, M failed" and the exit status is 1 when anything failed.
'use strict';
const crypto = require('crypto');
const sqs = require('@aws-sdk/client-sqs');
const { CheckFailed, check, step, call: callOn, summary } = require('./steps');

const [mode, endpoint] = process.argv.slice(2);
if (mode !== 'sequence' || !endpoint) {
  console.error('usage: node sqs_client.js sequence ENDPOINT');
  process.exit(2);
}
const client = new sqs.SQSClient({
  endpoint,
  region: process.env.AWS_REGION || 'us-east-1',
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || '',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || '',
  },
  maxAttempts: 1,
});
const call = (command) => callOn(client, command);

async function sequence() {
  const name = 'js-' + new URL(endpoint).protocol.replace(':', '') + '-' + crypto.randomBytes(4).toString('hex');
  const account = process.env.SEALPOST_ACCOUNT || '000000000000';
  const url = endpoint.replace(/\/$/, '') + '/' + account + '/' + name;
  let handles = [];

  await step('CreateQueue', async () => {
    const out = await call(new sqs.CreateQueueCommand({
      QueueName: name, Attributes: { VisibilityTimeout: '5' }, tags: { team: 'core' },
    }));
    check(out.result.QueueUrl === url, 'QueueUrl', out.result);
    return out;
  });
  await step('GetQueueUrl', async () => {
    const out = await call(new sqs.GetQueueUrlCommand({ QueueName: name }));
    check(out.result.QueueUrl === url, 'QueueUrl', out.result);
    return out;
  });
  await step('SetQueueAttributes', () => call(new sqs.SetQueueAttributesCommand({
    QueueUrl: url, Attributes: { DelaySeconds: '0', MessageRetentionPeriod: '3600' },
  })));
  await step('SendMessage', async () => {
    const out = await call(new sqs.SendMessageCommand({
      QueueUrl: url, MessageBody: 'hello from js \u00e9\u4e16',
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'greeting' },
        n: { DataType: 'Number', StringValue: '42' },
        raw: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) },
      },
    }));
    check(out.result.MessageId && out.result.MD5OfMessageBody && out.result.MD5OfMessageAttributes, 'ids and MD5s', out.result);
    return out;
  });
  await step('SendMessageBatch', async () => {
    const out = await call(new sqs.SendMessageBatchCommand({
      QueueUrl: url,
      Entries: [{ Id: 'a', MessageBody: 'one' }, { Id: 'b', MessageBody: 'two', DelaySeconds: 0 }],
    }));
    check((out.result.Successful || []).length === 2 && !(out.result.Failed || []).length, 'batch', out.result);
    return out;
  });
  await step('GetQueueAttributes', async () => {
    const out = await call(new sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    const a = out.result.Attributes || {};
    check(a.ApproximateNumberOfMessages === '3' && a.VisibilityTimeout === '5' && a.SqsManagedSseEnabled === 'true', 'attributes', a);
    return out;
  });
  await step('ReceiveMessage', async () => {
    const got = new Map();
    for (let i = 0; i < 5 && got.size < 3; i++) {
      const out = await call(new sqs.ReceiveMessageCommand({
        QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 2,
        MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }));
      for (const m of out.result.Messages || []) {
        got.set(m.Body, m);
      }
    }
    const hello = got.get('hello from js \u00e9\u4e16');
    check(got.size === 3 && hello, 'bodies', [...got.keys()]);
    check(hello.MessageAttributes.kind.StringValue === 'greeting' && hello.MessageAttributes.n.StringValue === '42' &&
      Buffer.from(hello.MessageAttributes.raw.BinaryValue).equals(Buffer.from([0, 1, 2, 255])), 'attributes', hello.MessageAttributes);
    check(hello.Attributes.ApproximateReceiveCount === '1' && hello.Attributes.SentTimestamp, 'system attributes', hello.Attributes);
    handles = [...got.values()].map((m) => m.ReceiptHandle);
    return { status: 200, result: { received: got.size } };
  });
  await step('ChangeMessageVisibility', () => call(new sqs.ChangeMessageVisibilityCommand({
    QueueUrl: url, ReceiptHandle: handles[0], VisibilityTimeout: 10,
  })));
  await step('DeleteMessage', () => call(new sqs.DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: handles[0] })));
  await step('DeleteMessageBatch', async () => {
    const out = await call(new sqs.DeleteMessageBatchCommand({
      QueueUrl: url, Entries: handles.slice(1).map((h, i) => ({ Id: 'd' + i, ReceiptHandle: h })),
    }));
    check((out.result.Successful || []).length === 2, 'deleted', out.result);
    return out;
  });
  await step('ListQueues', async () => {
    const out = await call(new sqs.ListQueuesCommand({ QueueNamePrefix: name }));
    check(JSON.stringify(out.result.QueueUrls) === JSON.stringify([url]), 'QueueUrls', out.result);
    return out;
  });
  await step('ListQueueTags', async () => {
    const out = await call(new sqs.ListQueueTagsCommand({ QueueUrl: url }));
    check(out.result.Tags && out.result.Tags.team === 'core', 'Tags', out.result);
    return out;
  });
  await step('DeleteQueue', () => call(new sqs.DeleteQueueCommand({ QueueUrl: url })));
  await step('GetQueueUrl after delete is QueueDoesNotExist', async () => {
    try {
      await client.send(new sqs.GetQueueUrlCommand({ QueueName: name }));
    } catch (e) {
      check(e instanceof sqs.QueueDoesNotExist, 'error class', e.name);
      check(e.$metadata.httpStatusCode === 400 && e.$fault === 'client', 'status and fault', e.$metadata);
      return { status: e.$metadata.httpStatusCode, result: { code: e.name } };
    }
    throw new CheckFailed('the deleted queue still answers');
  });
}

sequence().then(() => {
  process.exit(summary() ? 1 : 0);
}, (e) => {
  console.error(e);
  process.exit(1);
});
