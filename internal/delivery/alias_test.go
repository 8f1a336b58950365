package delivery_test

import "github.com/sealpost/sealpost/internal/store"

type storeSub = store.Subscription
