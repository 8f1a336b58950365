package sqs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"

	"github.com/sealpost/sealpost/internal/store"
)

func invalidQueueName() error {
	return errf(ErrInvalidParameterValue, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
}

func missingQueueName() error {
	return errf(ErrInvalidParameterValue, "Value for parameter QueueName is invalid. Reason: Must specify a queue name.")
}

// CreateQueue creates a standard queue in c's account and region and
// returns its URL.
//
// Names are 1 to 80 alphanumerics, '-' and '_'; a ".fifo" name or
// FifoQueue=true is refused (InvalidParameterValue: FIFO queues come with
// a later release). Attributes are validated as SetQueueAttributes does
// (see attributes.go); tags as TagQueue does. Creating an existing queue
// returns its URL when every attribute the request names has the value
// the queue has (defaults count; policies compare as JSON; tags and
// Sealpost's internal attributes are not compared), else QueueNameExists
// naming the first differing attribute.
func (s *Service) CreateQueue(ctx context.Context, c *Caller, name string, attrs, tags map[string]string) (string, error) {
	if name == "" {
		return "", missingQueueName()
	}
	if base, ok := strings.CutSuffix(name, ".fifo"); ok && len(name) <= 80 && queueNameRE.MatchString(base) {
		return "", fifoRefused()
	}
	if !queueNameRE.MatchString(name) {
		return "", invalidQueueName()
	}
	k := store.QueueKey{Account: c.account(), Region: c.Region, Name: name}
	arn := QueueARN(k)
	if err := s.authorizeIdentity(c, "CreateQueue", arn); err != nil {
		return "", err
	}
	if len(tags) > 0 {
		if err := s.authorizeIdentity(c, "TagQueue", arn); err != nil {
			return "", err
		}
		if err := validateTags(tags); err != nil {
			return "", err
		}
		if len(tags) > maxTags {
			return "", tooManyTags(name)
		}
	}
	norm, err := s.normalizeAttrs(ctx, k, attrs, true)
	if err != nil {
		return "", err
	}
	stored := map[string]string{}
	applyAttrs(stored, norm)
	if _, ok := norm["SqsManagedSseEnabled"]; !ok && stored["KmsMasterKeyId"] == "" {
		stored["SqsManagedSseEnabled"] = "true" // SSE-SQS by default, as AWS
	}
	if _, ok := stored["SqsManagedSseEnabled"]; !ok {
		stored["SqsManagedSseEnabled"] = "false"
	}
	storedTags := make(map[string]string, len(tags))
	for t, v := range tags {
		storedTags[t] = v
	}
	now := s.now()
	existing, err := s.st.CreateQueue(ctx, store.Queue{QueueKey: k, Attributes: stored, Tags: storedTags, CreatedAt: now, LastModified: now})
	if errors.Is(err, store.ErrExists) {
		names := make([]string, 0, len(norm))
		for n := range norm {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			have, _ := effectiveAttr(existing.Attributes, n)
			if !sameAttr(n, norm[n], have) {
				return "", errf(ErrQueueNameExists, "A queue already exists with the same name and a different value for attribute %s", n)
			}
		}
		return s.QueueURL(k), nil
	}
	if err != nil {
		return "", err
	}
	return s.QueueURL(k), nil
}

// GetQueueURL returns the URL of the queue name of ownerAccount ("" = c's
// account) in c's region. Another account's queue needs its policy to let
// c call sqs:GetQueueUrl.
func (s *Service) GetQueueURL(ctx context.Context, c *Caller, name, ownerAccount string) (string, error) {
	if name == "" {
		return "", missingQueueName()
	}
	account := c.account()
	if ownerAccount != "" {
		if !accountIDRE.MatchString(ownerAccount) {
			return "", errf(ErrInvalidParameterValue, "Value %s for parameter QueueOwnerAWSAccountId is invalid. Reason: Must be a 12-digit AWS account id.", ownerAccount)
		}
		account = ownerAccount
	}
	if account == "" || !validStoredName(name) {
		return "", errf(ErrQueueDoesNotExist, "The specified queue does not exist.")
	}
	k := store.QueueKey{Account: account, Region: c.Region, Name: name}
	if _, err := s.queueByKey(ctx, c, k, "GetQueueUrl"); err != nil {
		return "", err
	}
	return s.QueueURL(k), nil
}

// DeleteQueue deletes the queue with its messages (at once: AWS takes up
// to 60 seconds).
func (s *Service) DeleteQueue(ctx context.Context, c *Caller, queueURL string) error {
	q, err := s.queueFor(ctx, c, queueURL, "DeleteQueue")
	if err != nil {
		return err
	}
	return queueStoreErr(s.st.DeleteQueue(ctx, q.QueueKey))
}

// maxListResults is the largest MaxResults and the page size without one.
const maxListResults = 1000

func checkMaxResults(max int) error {
	if max < 0 || max > maxListResults {
		return errf(ErrInvalidParameterValue, "Value %d for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.", max)
	}
	return nil
}

// listToken is the content of a NextToken: which listing (kind and scope:
// the prefix, or the dead-letter queue's ARN) and the last name returned.
type listToken struct {
	Kind  string `json:"k"`
	Scope string `json:"s"`
	After string `json:"a"`
}

func makeToken(kind, scope, after string) string {
	b, _ := json.Marshal(listToken{kind, scope, after})
	return base64.RawURLEncoding.EncodeToString(b)
}

// readToken returns the name a NextToken continues after; a token of
// another listing, scope or garbage is InvalidParameterValue.
func readToken(tok, kind, scope string) (string, error) {
	bad := errf(ErrInvalidParameterValue, "Invalid NextToken value.")
	if len(tok) > 1024 {
		return "", bad
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", bad
	}
	var t listToken
	if json.Unmarshal(b, &t) != nil || t.Kind != kind || t.Scope != scope || !validStoredName(t.After) {
		return "", bad
	}
	return t.After, nil
}

// ListQueues returns the URLs of c's queues in its region whose names
// start with prefix, by name, and the next token ("" on the last page).
// max is MaxResults, 1..1000, or 0 when not given: then up to 1000 URLs
// and never a token, as AWS ("you must set MaxResults to receive a value
// for NextToken").
func (s *Service) ListQueues(ctx context.Context, c *Caller, prefix, nextToken string, max int) ([]string, string, error) {
	if err := checkMaxResults(max); err != nil {
		return nil, "", err
	}
	account := c.account()
	if err := s.authorizeIdentity(c, "ListQueues", "arn:aws:sqs:"+c.Region+":"+account+":*"); err != nil {
		return nil, "", err
	}
	after := ""
	if nextToken != "" {
		a, err := readToken(nextToken, "ListQueues", prefix)
		if err != nil {
			return nil, "", err
		}
		if !strings.HasPrefix(a, prefix) {
			return nil, "", errf(ErrInvalidParameterValue, "Invalid NextToken value.")
		}
		after = a
	}
	if len(prefix) > 80 || strings.Trim(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return []string{}, "", nil // no queue name starts so
	}
	limit := max
	if limit == 0 {
		limit = maxListResults
	}
	qs, cursor, err := s.st.ListQueues(ctx, account, c.Region, prefix, store.Page{After: after, Limit: limit})
	if err != nil {
		return nil, "", err
	}
	urls := make([]string, 0, len(qs))
	for _, q := range qs {
		urls = append(urls, s.QueueURL(q.QueueKey))
	}
	if max == 0 || cursor == "" {
		return urls, "", nil
	}
	return urls, makeToken("ListQueues", prefix, cursor), nil
}

// ListDeadLetterSourceQueues returns the URLs of queues whose RedrivePolicy
// names queueURL's queue (queues of its account and region, by name), and
// the next token; max as for ListQueues. It reads every queue of the
// account and region.
func (s *Service) ListDeadLetterSourceQueues(ctx context.Context, c *Caller, queueURL, nextToken string, max int) ([]string, string, error) {
	if err := checkMaxResults(max); err != nil {
		return nil, "", err
	}
	q, err := s.queueFor(ctx, c, queueURL, "ListDeadLetterSourceQueues")
	if err != nil {
		return nil, "", err
	}
	cursor := ""
	if nextToken != "" {
		if cursor, err = readToken(nextToken, "ListDeadLetterSourceQueues", q.arn); err != nil {
			return nil, "", err
		}
	}
	limit := max
	if limit == 0 {
		limit = maxListResults
	}
	urls := []string{}
	last := ""
	for {
		qs, next, err := s.st.ListQueues(ctx, q.Account, q.Region, "", store.Page{After: cursor, Limit: maxListResults})
		if err != nil {
			return nil, "", err
		}
		for _, src := range qs {
			rp, ok := readRedrivePolicy(src.Attributes["RedrivePolicy"])
			if !ok || rp.arn != q.arn {
				continue
			}
			if len(urls) == limit {
				if max == 0 {
					return urls, "", nil
				}
				return urls, makeToken("ListDeadLetterSourceQueues", q.arn, last), nil
			}
			urls = append(urls, s.QueueURL(src.QueueKey))
			last = src.Name
		}
		if next == "" {
			return urls, "", nil
		}
		cursor = next
	}
}
