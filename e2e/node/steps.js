// The step protocol shared by the node clients (sns_client.js,
// sqs_client.js): each step prints one JSON line
//   {"step":"Publish","ok":true,"status":200,"result":{...}}
//   {"step":"ListTopics","ok":false,"status":403,"code":"SignatureDoesNotMatch","fault":"client","message":"..."}
// and summary() prints "js: N passed, M failed".
'use strict';

let passed = 0;
let failed = 0;

class CheckFailed extends Error {
  constructor(message) {
    super(message);
    this.name = 'CheckFailed';
  }
}

// check throws CheckFailed (the step fails with code "CheckFailed") unless cond.
function check(cond, what, got) {
  if (!cond) {
    throw new CheckFailed(what + ': got ' + JSON.stringify(got));
  }
}

// step runs one call (fn returns {status, result}) and prints its line.
async function step(name, fn) {
  const line = { step: name };
  try {
    const out = await fn();
    Object.assign(line, { ok: true, status: out.status, result: out.result });
    passed++;
  } catch (e) {
    Object.assign(line, {
      ok: false,
      status: e.$metadata ? e.$metadata.httpStatusCode : undefined,
      code: e.name || e.code,
      fault: e.$fault,
      message: e.message,
    });
    if (e.code && e.code !== e.name) {
      line.errno = e.code; // network errors, such as an untrusted certificate
    }
    failed++;
  }
  console.log(JSON.stringify(line));
  return line;
}

// call sends one command on client c and returns its status and output
// without metadata.
async function call(c, command) {
  const out = await c.send(command);
  const { $metadata, ...result } = out;
  return { status: $metadata.httpStatusCode, result, requestId: $metadata.requestId };
}

// summary prints the totals and returns whether a step failed.
function summary() {
  console.log('js: ' + passed + ' passed, ' + failed + ' failed');
  return failed > 0;
}

module.exports = { CheckFailed, check, step, call, summary };
