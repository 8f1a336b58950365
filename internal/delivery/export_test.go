package delivery

// BucketCount is how many throttle buckets the engine holds.
func (e *Engine) BucketCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.buckets)
}

// SetWipeHook makes the engine call f with every buffer it wiped, right
// after the wipe.
func (e *Engine) SetWipeHook(f func([]byte)) { e.onWipe = f }
