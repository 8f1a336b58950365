package sqs

// errTODO answers the stubs of stubs_messages.go (the sqs-messages
// helper's); this file goes when they do. Every queue stub is implemented
// (queues.go, attributes.go, access.go, tags.go).
var errTODO = errf(ErrUnsupportedOperation, "not implemented yet")
