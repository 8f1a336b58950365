// An HTTP subscriber that checks every SNS message with AWS's official
// validator (sns-validator, aws/aws-js-sns-message-validator), configured for
// Sealpost's certificate host, confirms subscriptions by visiting the
// SubscribeURL, and prints one line per message: "valid <Type> <MessageId>"
// or "invalid <Type> <error>". Usage: node subscriber.js <hostPattern regexp>
// The first line printed is "listening <port>". Sealpost's CA must be trusted
// through NODE_EXTRA_CA_CERTS.
'use strict';
const http = require('http');
const https = require('https');
const MessageValidator = require('sns-validator');

const validator = new MessageValidator(new RegExp(process.argv[2]));
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    let msg;
    try {
      msg = JSON.parse(body);
    } catch (e) {
      console.log('invalid - not JSON');
      res.end();
      return;
    }
    validator.validate(msg, (err, m) => {
      if (err) {
        console.log('invalid ' + msg.Type + ' ' + err.message);
      } else {
        console.log('valid ' + m.Type + ' ' + m.MessageId);
        if (m.Type === 'SubscriptionConfirmation') {
          https.get(m.SubscribeURL, (r) => { r.resume(); console.log('confirmed ' + r.statusCode); })
            .on('error', (e) => console.log('confirm-failed ' + e.message));
        }
      }
      res.end();
    });
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
