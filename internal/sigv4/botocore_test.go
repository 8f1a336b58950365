package sigv4

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// botocoreScript signs requests with botocore (the signer behind the aws CLI
// and boto3) and sends them with botocore's own HTTP session to argv[1].
// Every request carries an X-Test-Case header (added before signing, so it is
// signed too) naming the case. It prints {"sent": [...], "errors": [...]}.
const botocoreScript = `
import sys, json
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session
from botocore.config import Config
from botocore import xform_name
import botocore.session

base, ak, sk, tok = sys.argv[1:5]
http = URLLib3Session()
sent, errors = [], []

def send(name, r):
    try:
        http.send(r.prepare())
    except Exception as e:
        errors.append('%s: %r' % (name, e))
    sent.append(name)

plain = Credentials(ak, sk)
sess = Credentials(ak, sk, tok)
form = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
jsn = {'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.Encrypt'}
snsbody = ('Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aorders'
           '&Message=h%C3%A9llo%20%26%20more%20%2B%2F%3D').encode()
kmsbody = b'{"KeyId":"alias/aws/sns","Plaintext":"aGVsbG8=","EncryptionContext":{"k":"v"}}'

def header_case(name, service, creds, method='POST', path='/', body=b'', headers=None):
    h = {'X-Test-Case': name}
    h.update(headers or {})
    r = AWSRequest(method=method, url=base + path, data=body, headers=h)
    SigV4Auth(creds, service, 'us-east-1').add_auth(r)
    send(name, r)

header_case('sns-form', 'sns', plain, body=snsbody, headers=form)
header_case('sns-form-token', 'sns', sess, body=snsbody, headers=form)
header_case('kms-json', 'kms', plain, body=kmsbody, headers=jsn)
header_case('kms-json-token', 'kms', sess, body=kmsbody, headers=jsn)
# With a Date header botocore signs Date (RFC 2822, "-0000") and drops X-Amz-Date.
header_case('date-header', 'sns', plain, body=snsbody, headers=dict(form, Date='x'))
header_case('odd-path', 'sns', plain, path='/a/./b//c/../d/', body=snsbody, headers=form)
header_case('query', 'sns', plain, method='GET', path='/?b=2&a=x%20y&a=w&c=%E1%88%B4&d=&e=%2F%2B%2A')
header_case('header-spaces', 'sns', plain, body=snsbody, headers=dict(form, **{'X-Custom': '  a   b  c '}))

for name, creds in (('presign-get', plain), ('presign-get-token', sess)):
    r = AWSRequest(method='GET', url=base + '/?Action=ListTopics&Version=2010-03-31', headers={'X-Test-Case': name})
    SigV4QueryAuth(creds, 'sns', 'us-east-1', expires=300).add_auth(r)
    send(name, r)
# A form POST presigned by botocore: the form moves into the query string.
r = AWSRequest(method='POST', url=base + '/', data={'Action': 'ListTopics', 'Version': '2010-03-31'},
               headers={'X-Test-Case': 'presign-form'})
SigV4QueryAuth(plain, 'sns', 'us-east-1', expires=300).add_auth(r)
send('presign-form', r)

current = {'name': None}
def tag(request, **kw):
    request.headers['X-Test-Case'] = current['name']

session = botocore.session.get_session()
cfg = Config(retries={'total_max_attempts': 1})
calls = {
    'sns': [('ListTopics', {}), ('Publish', {'TopicArn': 'arn:aws:sns:us-east-1:123456789012:orders',
                                             'Message': 'h\u00e9llo & more +/= ~', 'Subject': 's p a c e'})],
    'kms': [('ListKeys', {}), ('Encrypt', {'KeyId': 'alias/aws/sns', 'Plaintext': b'hello'})],
}
for svc in ('sns', 'kms'):
    for t in (None, tok):
        c = session.create_client(svc, region_name='us-east-1', endpoint_url=base, aws_access_key_id=ak,
                                  aws_secret_access_key=sk, aws_session_token=t, config=cfg)
        c.meta.events.register('before-sign', tag)
        for op, params in calls[svc]:
            name = 'client-%s-%s-%s' % (svc, op, 'token' if t else 'plain')
            current['name'] = name
            try:
                getattr(c, xform_name(op))(**params)
            except Exception as e:
                errors.append('%s: %r' % (name, e))
            sent.append(name)
print(json.dumps({'sent': sent, 'errors': errors}))
`

// TestBotocore: requests signed by botocore (SigV4Auth, SigV4QueryAuth and
// real SNS/KMS clients) verify. Skipped without python3 + botocore.
func TestBotocore(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if out, err := exec.Command(py, "-c", "import botocore").CombinedOutput(); err != nil {
		t.Skipf("botocore not importable: %v %s", err, out)
	}
	rec := &recorder{v: &Verifier{Secret: testVerifier(t0).Secret}}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", botocoreScript, srv.URL, testAKID, testSecret, testToken)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("python: %v\n%s\n%s", err, out, stderr)
	}
	var report struct {
		Sent   []string `json:"sent"`
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	for _, e := range report.Errors {
		t.Errorf("python: %s", e)
	}
	seen := rec.take()
	var got []string
	for _, s := range seen {
		name := s.tag
		got = append(got, name)
		if s.err != nil {
			t.Errorf("%s: %v", name, s.err)
			continue
		}
		if !slices.Contains(s.res.SignedHeaders, "x-test-case") {
			t.Errorf("%s: x-test-case not signed: %v", name, s.res.SignedHeaders)
		}
		t.Logf("botocore %-28s signs %-72s %s %.60s", name, strings.Join(s.res.SignedHeaders, ";"), s.method, s.uri)
	}
	want := slices.Clone(report.Sent)
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("server saw %v\npython sent %v", got, want)
	}
}
