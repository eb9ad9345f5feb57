package rewrite

import (
	"container/list"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"
)

// maxCachedText is the longest statement text the cache keeps: a huge one-off statement would otherwise pin its
// text and analysis in memory until evicted.
const maxCachedText = 1 << 20

// Cache is a bounded LRU cache from statement text to its Analysis, so a repeated statement is not parsed again.
// It is safe for concurrent use; parsing happens outside the lock, and concurrent misses on the same text parse it
// once. The Analysis it hands out is shared and must not be modified. The resolver is not part of the cache: the
// caller asks it again for every statement, because which dev relations exist changes.
type Cache struct {
	max    int
	mu     sync.Mutex
	ll     *list.List // front = most recently used; values are *cacheEntry
	items  map[string]*list.Element
	flight singleflight.Group
	hits   atomic.Uint64
	misses atomic.Uint64
}

type cacheEntry struct {
	sql string
	a   *Analysis
}

// CacheStats are the cache's counters.
type CacheStats struct {
	Hits, Misses uint64
	Entries      int
}

// NewCache returns a cache holding at most n analyses (n < 1 means 1).
func NewCache(n int) *Cache {
	if n < 1 {
		n = 1
	}
	return &Cache{max: n, ll: list.New(), items: make(map[string]*list.Element, n)}
}

// Get returns the cached analysis of sql, if any.
func (c *Cache) Get(sql string) (*Analysis, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[sql]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*cacheEntry).a, true
	}
	return nil, false
}

// Analyze returns the analysis of sql from the cache, or analyses it (outside the lock) and keeps the result.
func (c *Cache) Analyze(sql string) (*Analysis, error) {
	if a, ok := c.Get(sql); ok {
		c.hits.Add(1)
		return a, nil
	}
	c.misses.Add(1)
	if len(sql) > maxCachedText {
		return Analyze(sql)
	}
	v, err, _ := c.flight.Do(sql, func() (any, error) {
		a, err := Analyze(sql)
		if err != nil {
			return nil, err
		}
		c.put(sql, a)
		return a, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Analysis), nil
}

func (c *Cache) put(sql string, a *Analysis) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[sql]; ok {
		c.ll.MoveToFront(el)
		el.Value.(*cacheEntry).a = a
		return
	}
	sql = strings.Clone(sql) // the caller's text may live in a reused buffer
	c.items[sql] = c.ll.PushFront(&cacheEntry{sql: sql, a: a})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).sql)
	}
}

// Stats returns the hit and miss counts and the number of cached analyses.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	n := c.ll.Len()
	c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: n}
}
