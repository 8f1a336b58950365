package snsapi

import (
	"context"
	"strconv"

	"github.com/sealpost/sealpost/internal/sns"
)

func require(f form, names ...string) error {
	for _, n := range names {
		if f.get(n) == "" {
			return paramErr(n)
		}
	}
	return nil
}

func createTopic(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "Name"); err != nil {
		return err
	}
	attrs, err := f.stringMap("Attributes")
	if err != nil {
		return err
	}
	tags, err := f.tags("Tags")
	if err != nil {
		return err
	}
	arn, err := svc.CreateTopic(ctx, c, f.get("Name"), attrs, tags, f.get("DataProtectionPolicy"))
	if err != nil {
		return err
	}
	w.elem("TopicArn", arn)
	return nil
}

func deleteTopic(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "TopicArn"); err != nil {
		return err
	}
	return svc.DeleteTopic(ctx, c, f.get("TopicArn"))
}

func listTopics(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	arns, next, err := svc.ListTopics(ctx, c, f.get("NextToken"))
	if err != nil {
		return err
	}
	w.open("Topics")
	for _, a := range arns {
		w.open("member")
		w.elem("TopicArn", a)
		w.close("member")
	}
	w.close("Topics")
	if next != "" {
		w.elem("NextToken", next)
	}
	return nil
}

func getTopicAttributes(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "TopicArn"); err != nil {
		return err
	}
	attrs, err := svc.GetTopicAttributes(ctx, c, f.get("TopicArn"))
	if err != nil {
		return err
	}
	w.attributes(attrs)
	return nil
}

func setTopicAttributes(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "TopicArn", "AttributeName"); err != nil {
		return err
	}
	return svc.SetTopicAttributes(ctx, c, f.get("TopicArn"), f.get("AttributeName"), f.get("AttributeValue"))
}

func subscribe(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "TopicArn", "Protocol"); err != nil {
		return err
	}
	attrs, err := f.stringMap("Attributes")
	if err != nil {
		return err
	}
	ret, err := f.boolean("ReturnSubscriptionArn")
	if err != nil {
		return err
	}
	res, err := svc.Subscribe(ctx, c, f.get("TopicArn"), f.get("Protocol"), f.get("Endpoint"), attrs)
	if err != nil {
		return err
	}
	if res.Pending && !ret {
		w.elem("SubscriptionArn", sns.PendingConfirmation)
	} else {
		w.elem("SubscriptionArn", res.ARN)
	}
	return nil
}

func confirmSubscription(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "TopicArn", "Token"); err != nil {
		return err
	}
	auth, err := f.boolean("AuthenticateOnUnsubscribe")
	if err != nil {
		return err
	}
	arn, err := svc.ConfirmSubscription(ctx, c, f.get("TopicArn"), f.get("Token"), auth)
	if err != nil {
		return err
	}
	w.elem("SubscriptionArn", arn)
	return nil
}

func unsubscribe(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "SubscriptionArn"); err != nil {
		return err
	}
	return svc.Unsubscribe(ctx, c, f.get("SubscriptionArn"))
}

func writeSubs(w *xmlWriter, subs []sns.SubscriptionSummary, next string) {
	w.open("Subscriptions")
	for _, s := range subs {
		w.open("member")
		w.elem("SubscriptionArn", s.SubscriptionArn)
		w.elem("Owner", s.Owner)
		w.elem("Protocol", s.Protocol)
		w.elem("Endpoint", s.Endpoint)
		w.elem("TopicArn", s.TopicArn)
		w.close("member")
	}
	w.close("Subscriptions")
	if next != "" {
		w.elem("NextToken", next)
	}
}

func listSubscriptions(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	subs, next, err := svc.ListSubscriptions(ctx, c, f.get("NextToken"))
	if err != nil {
		return err
	}
	writeSubs(w, subs, next)
	return nil
}

func listSubscriptionsByTopic(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "TopicArn"); err != nil {
		return err
	}
	subs, next, err := svc.ListSubscriptionsByTopic(ctx, c, f.get("TopicArn"), f.get("NextToken"))
	if err != nil {
		return err
	}
	writeSubs(w, subs, next)
	return nil
}

func getSubscriptionAttributes(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "SubscriptionArn"); err != nil {
		return err
	}
	attrs, err := svc.GetSubscriptionAttributes(ctx, c, f.get("SubscriptionArn"))
	if err != nil {
		return err
	}
	w.attributes(attrs)
	return nil
}

func setSubscriptionAttributes(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "SubscriptionArn", "AttributeName"); err != nil {
		return err
	}
	return svc.SetSubscriptionAttributes(ctx, c, f.get("SubscriptionArn"), f.get("AttributeName"), f.get("AttributeValue"))
}

// publishInput decodes one message. On a bad attribute it returns the error
// with the rest of the input filled in (PublishBatch still counts its size).
func publishInput(f form, prefix string) (sns.PublishInput, error) {
	attrs, err := f.messageAttributes(prefix)
	return sns.PublishInput{
		Message:                f.get(prefix + "Message"),
		Subject:                f.get(prefix + "Subject"),
		SubjectSet:             f.has(prefix + "Subject"),
		MessageStructure:       f.get(prefix + "MessageStructure"),
		MessageAttributes:      attrs,
		MessageGroupID:         f.get(prefix + "MessageGroupId"),
		MessageDeduplicationID: f.get(prefix + "MessageDeduplicationId"),
	}, err
}

func publish(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	in, err := publishInput(f, "")
	if err != nil {
		return err
	}
	in.TopicARN = f.get("TopicArn")
	if in.TopicARN == "" {
		in.TopicARN = f.get("TargetArn")
	}
	if in.TopicARN == "" {
		if f.get("PhoneNumber") != "" {
			return paramErr("PhoneNumber Reason: Sealpost does not send SMS")
		}
		return paramErr("TopicArn or TargetArn Reason: no value for required parameter")
	}
	if in.Message == "" {
		return paramErr("Empty message")
	}
	out, err := svc.Publish(ctx, c, in)
	if err != nil {
		return err
	}
	w.elem("MessageId", out.MessageID)
	if out.SequenceNumber != "" {
		w.elem("SequenceNumber", out.SequenceNumber)
	}
	return nil
}

func publishBatch(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "TopicArn"); err != nil {
		return err
	}
	const p = "PublishBatchRequestEntries.member."
	idx, err := f.indexes(p)
	if err != nil {
		return err
	}
	// A bad entry is reported in Failed (sns.PublishBatch checks the batch
	// as a whole first); more than 10 entries fail there too.
	entries := make([]sns.BatchEntry, 0, len(idx))
	for _, n := range idx {
		prefix := p + strconv.Itoa(n) + "."
		in, err := publishInput(f, prefix)
		entries = append(entries, sns.BatchEntry{ID: f.get(prefix + "Id"), PublishInput: in, Err: err})
	}
	results, err := svc.PublishBatch(ctx, c, f.get("TopicArn"), entries)
	if err != nil {
		return err
	}
	w.open("Successful")
	for _, r := range results {
		if r.Err != nil {
			continue
		}
		w.open("member")
		w.elem("Id", r.ID)
		w.elem("MessageId", r.Out.MessageID)
		if r.Out.SequenceNumber != "" {
			w.elem("SequenceNumber", r.Out.SequenceNumber)
		}
		w.close("member")
	}
	w.close("Successful")
	w.open("Failed")
	for _, r := range results {
		if r.Err == nil {
			continue
		}
		code, status := Code(r.Err)
		w.open("member")
		w.elem("Id", r.ID)
		w.elem("Code", code)
		w.elem("Message", r.Err.Error())
		w.elem("SenderFault", strconv.FormatBool(status < 500))
		w.close("member")
	}
	w.close("Failed")
	return nil
}

func tagResource(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "ResourceArn"); err != nil {
		return err
	}
	tags, err := f.tags("Tags")
	if err != nil {
		return err
	}
	return svc.TagResource(ctx, c, f.get("ResourceArn"), tags)
}

func untagResource(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "ResourceArn"); err != nil {
		return err
	}
	keys, err := f.list("TagKeys")
	if err != nil {
		return err
	}
	return svc.UntagResource(ctx, c, f.get("ResourceArn"), keys)
}

func listTagsForResource(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "ResourceArn"); err != nil {
		return err
	}
	tags, err := svc.ListTagsForResource(ctx, c, f.get("ResourceArn"))
	if err != nil {
		return err
	}
	w.open("Tags")
	for _, t := range tags {
		w.open("member")
		w.elem("Key", t.Key)
		w.elem("Value", t.Value)
		w.close("member")
	}
	w.close("Tags")
	return nil
}

func addPermission(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "TopicArn", "Label"); err != nil {
		return err
	}
	accounts, err := f.list("AWSAccountId")
	if err != nil {
		return err
	}
	acts, err := f.list("ActionName")
	if err != nil {
		return err
	}
	return svc.AddPermission(ctx, c, f.get("TopicArn"), f.get("Label"), accounts, acts)
}

func removePermission(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "TopicArn", "Label"); err != nil {
		return err
	}
	return svc.RemovePermission(ctx, c, f.get("TopicArn"), f.get("Label"))
}

func getDataProtectionPolicy(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "ResourceArn"); err != nil {
		return err
	}
	p, err := svc.GetDataProtectionPolicy(ctx, c, f.get("ResourceArn"))
	if err != nil {
		return err
	}
	w.elem("DataProtectionPolicy", p)
	return nil
}

func putDataProtectionPolicy(ctx context.Context, svc *sns.Service, c sns.Caller, f form, w *xmlWriter) error {
	if err := require(f, "ResourceArn", "DataProtectionPolicy"); err != nil {
		return err
	}
	return svc.PutDataProtectionPolicy(ctx, c, f.get("ResourceArn"), f.get("DataProtectionPolicy"))
}
