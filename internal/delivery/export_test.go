package delivery

// BucketCount is how many throttle buckets the engine holds.
func (e *Engine) BucketCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.buckets)
}
