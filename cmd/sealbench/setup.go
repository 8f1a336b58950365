package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// syntheticAccount is the account ID used in synthetic SQS queue ARNs when the
// endpoint has no SQS API.
const syntheticAccount = "000000000000"

// setup starts the sink and creates the topic and its subscriptions.
func (b *bench) setup(ctx context.Context) error {
	o := b.o
	if o.subProtocol == "http" && o.subs > 0 {
		s, err := startSink(b, o.sinkListen)
		if err != nil {
			return fmt.Errorf("start sink: %w", err)
		}
		b.sink = s
		logf("sink listening on http://%s", s.addr)
	}

	name := o.topic
	if name == "" {
		name = "sealbench-" + b.runID
	}
	var topicArn string
	var topicAttrs map[string]string
	if o.kmsKey != "" {
		topicAttrs = map[string]string{"KmsMasterKeyId": o.kmsKey}
	}
	if err := b.call(ctx, func(ctx context.Context) error {
		out, err := b.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: topicAttrs})
		if err == nil {
			topicArn = aws.ToString(out.TopicArn)
		}
		return err
	}); err != nil {
		return fmt.Errorf("CreateTopic %s: %w", name, err)
	}
	b.topicArn = topicArn
	if o.kmsKey != "" {
		logf("topic %s (KmsMasterKeyId %s)", topicArn, o.kmsKey)
	} else {
		logf("topic %s", topicArn)
	}

	endpoints, err := b.subscriptionEndpoints(ctx)
	if err != nil {
		return err
	}
	var attrs map[string]string
	if o.raw {
		attrs = map[string]string{"RawMessageDelivery": "true"}
	}
	for i, ep := range endpoints {
		var arn string
		err := b.call(ctx, func(ctx context.Context) error {
			out, err := b.sns.Subscribe(ctx, &sns.SubscribeInput{
				TopicArn:              aws.String(b.topicArn),
				Protocol:              aws.String(o.subProtocol),
				Endpoint:              aws.String(ep),
				Attributes:            attrs,
				ReturnSubscriptionArn: true,
			})
			if err == nil {
				arn = aws.ToString(out.SubscriptionArn)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("subscribe %s %s: %w", o.subProtocol, ep, err)
		}
		b.subs = append(b.subs, subscription{index: i, endpoint: ep, arn: arn})
		logf("subscription %d: %s %s -> %s", i, o.subProtocol, ep, arn)
	}
	if b.sink != nil {
		b.waitConfirmed(ctx)
	}
	return ctx.Err()
}

// subscriptionEndpoints returns the endpoint of every subscription: sink URLs
// for http, queue ARNs for sqs (creating the queues when the SQS API works).
func (b *bench) subscriptionEndpoints(ctx context.Context) ([]string, error) {
	o := b.o
	eps := make([]string, 0, o.subs)
	if o.subProtocol == "http" {
		for i := 0; i < o.subs; i++ {
			eps = append(eps, fmt.Sprintf("http://%s/s/%d", b.sink.addr, i))
		}
		return eps, nil
	}
	useSQS := b.sqs != nil
	for i := 0; i < o.subs; i++ {
		qname := fmt.Sprintf("sealbench-%s-%d", b.runID, i)
		arn := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", o.region, syntheticAccount, qname)
		if useSQS {
			var url string
			err := b.call(ctx, func(ctx context.Context) error {
				out, err := b.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(qname)})
				if err == nil {
					url = aws.ToString(out.QueueUrl)
				}
				return err
			})
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				logf("SQS CreateQueue at %s failed (%v); subscribing synthetic queue ARNs", o.sqsEndpoint, shortErr(err))
				useSQS = false
			} else {
				b.queues = append(b.queues, url)
				err := b.call(ctx, func(ctx context.Context) error {
					out, err := b.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
						QueueUrl:       aws.String(url),
						AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
					})
					if err == nil && out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)] != "" {
						arn = out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
					}
					return err
				})
				if err != nil {
					logf("SQS GetQueueAttributes %s failed (%v); using %s", url, shortErr(err), arn)
				}
			}
		}
		eps = append(eps, arn)
	}
	return eps, nil
}

// waitConfirmed waits until every http subscription is confirmed: either the
// sink confirmed it, or the server reports PendingConfirmation=false (servers
// such as moto confirm immediately and never send a SubscriptionConfirmation).
func (b *bench) waitConfirmed(ctx context.Context) {
	deadline := time.Now().Add(b.o.confirmTimeout)
	done := make([]bool, len(b.subs))
	attrErrLogged := false
	for {
		pending := 0
		for i, s := range b.subs {
			if done[i] {
				continue
			}
			if b.sink.confirmed(s.index) {
				done[i] = true
				continue
			}
			if s.arn != "" && !strings.EqualFold(s.arn, "pending confirmation") {
				var pc string
				err := b.call(ctx, func(ctx context.Context) error {
					out, err := b.sns.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(s.arn)})
					if err == nil {
						pc = out.Attributes["PendingConfirmation"]
					}
					return err
				})
				if err == nil && !strings.EqualFold(pc, "true") {
					done[i] = true
					continue
				}
				if err != nil && !attrErrLogged && ctx.Err() == nil {
					logf("GetSubscriptionAttributes %s: %v (waiting for the sink to confirm)", s.arn, shortErr(err))
					attrErrLogged = true
				}
			}
			pending++
		}
		if pending == 0 {
			if n := b.sink.confirmations(); n > 0 {
				logf("all %d subscriptions confirmed (%d via SubscriptionConfirmation)", len(b.subs), n)
			} else {
				logf("all %d subscriptions confirmed (no SubscriptionConfirmation received)", len(b.subs))
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		if time.Now().After(deadline) {
			logf("warning: %d subscription(s) still pending confirmation after %v; continuing", pending, b.o.confirmTimeout)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// teardown deletes what setup created (when -cleanup) and stops the sink.
func (b *bench) teardown() {
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > time.Second {
			logf("teardown took %v", d.Round(time.Millisecond))
		}
	}()
	if b.o.cleanup {
		ctx := context.Background()
		for _, s := range b.subs {
			if s.arn == "" || strings.EqualFold(s.arn, "pending confirmation") {
				continue
			}
			if err := b.call(ctx, func(ctx context.Context) error {
				_, err := b.sns.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(s.arn)})
				return err
			}); err != nil {
				logf("cleanup: Unsubscribe %s: %v", s.arn, shortErr(err))
			}
		}
		if b.topicArn != "" {
			if err := b.call(ctx, func(ctx context.Context) error {
				_, err := b.sns.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(b.topicArn)})
				return err
			}); err != nil {
				logf("cleanup: DeleteTopic %s: %v", b.topicArn, shortErr(err))
			}
		}
		for _, q := range b.queues {
			if err := b.call(ctx, func(ctx context.Context) error {
				_, err := b.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(q)})
				return err
			}); err != nil {
				logf("cleanup: DeleteQueue %s: %v", q, shortErr(err))
			}
		}
	}
	if b.sink != nil {
		t := time.Now()
		b.sink.close()
		if d := time.Since(t); d > time.Second {
			logf("sink shutdown took %v (deliveries still in progress)", d.Round(time.Millisecond))
		}
	}
}

// call runs one control-plane API call with the per-call timeout.
func (b *bench) call(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, b.o.timeout)
	defer cancel()
	return f(ctx)
}
