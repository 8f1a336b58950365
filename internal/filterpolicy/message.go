package filterpolicy

// Message is one published message, to be matched against the filter
// policies of many subscriptions. Its body is parsed at most once, when the
// first policy of scope MessageBody needs it, and the parsed form serves
// every policy after that: a message with 50 body-filtered subscriptions is
// parsed once, not 50 times, and one without any is never parsed.
//
// A Message is for one goroutine. Call Release when done with it, so that
// the parsed form goes back to the pool; the zero value (with Attributes and
// Body set) is ready to use.
type Message struct {
	// Attributes are the message attributes as published.
	Attributes map[string]Attribute
	// Body is the message body.
	Body string

	st     *matchState // holds the parsed body once parsed
	root   int32
	parsed bool
	object bool // the body is a JSON object
}

// MatchMessage applies the policy to m according to the policy's scope, as
// Match does. A nil policy matches everything.
func (p *Policy) MatchMessage(m *Message) bool {
	if p == nil {
		return true
	}
	if p.scope != ScopeMessageBody {
		return p.MatchAttributes(m.Attributes)
	}
	if !m.parsed {
		m.parsed = true
		m.st = getState()
		root, ok := m.st.jp.parse(m.Body)
		m.root = root
		m.object = ok && m.st.jp.nodes[root].kind == jObject
	}
	if !m.object {
		return false
	}
	return m.st.matchParsed(p, m.root)
}

// Release returns the parsed body's scratch space to the pool. m may be
// matched again afterwards (it is parsed again if needed).
func (m *Message) Release() {
	if m.st != nil {
		putState(m.st)
		m.st = nil
	}
	m.parsed, m.object = false, false
}
