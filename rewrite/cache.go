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
// Beside exact texts it keeps literal shapes (shape.go): a text that differs from an analysed one only in the
// values of its literals gets that analysis with its offsets moved, without a parse.
// It is safe for concurrent use; parsing happens outside the lock, and concurrent misses on the same text parse it
// once. The Analysis it hands out is shared and must not be modified. The resolver is not part of the cache: the
// caller asks it again for every statement, because which dev relations exist changes.
type Cache struct {
	mu     sync.Mutex
	exact  lru // text → *Analysis
	shapes lru // shape key → *shapeEntry
	lexed  lru // Snowflake text → *Analysis (Lex)
	flight singleflight.Group

	hits, shapeHits, misses atomic.Uint64
}

// shapeEntry is the analysis of the first text seen with a shape, and where that text's literals were; a nil
// analysis marks a shape that is not shared (pg_query's scanner saw its constants elsewhere).
type shapeEntry struct {
	a    *Analysis
	lits []litSpan
}

// CacheStats are the cache's counters.
type CacheStats struct {
	Hits      uint64 // exact text seen before
	ShapeHits uint64 // same text but for literal values: analysis moved, no parse
	Misses    uint64 // parsed
	Entries   int    // exact texts kept
	Shapes    int    // literal shapes kept
}

// NewCache returns a cache holding at most n analyses, and at most n literal shapes (n < 1 means 1).
func NewCache(n int) *Cache {
	if n < 1 {
		n = 1
	}
	return &Cache{exact: newLRU(n), shapes: newLRU(n), lexed: newLRU(n)}
}

// Lex returns the lexer's analysis of sql in dialect d (LexAnalyze: the reader of Snowflake SQL, SPEC §11), cached by
// exact text apart from the parser's analyses. Lexing is cheap, so there are no literal shapes and no merging of
// concurrent misses.
func (c *Cache) Lex(sql string, d Dialect) *Analysis {
	c.mu.Lock()
	v, ok := c.lexed.get(sql)
	c.mu.Unlock()
	if ok {
		if a := v.(*Analysis); a.Dialect == d {
			c.hits.Add(1)
			return a
		}
	}
	c.misses.Add(1)
	a := LexAnalyze(sql, d)
	if len(sql) <= maxCachedText {
		c.mu.Lock()
		c.lexed.put(sql, a)
		c.mu.Unlock()
	}
	return a
}

// Get returns the cached analysis of exactly sql, if any.
func (c *Cache) Get(sql string) (*Analysis, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.exact.get(sql); ok {
		return v.(*Analysis), true
	}
	return nil, false
}

// Analyze returns the analysis of sql from the cache, or from the cached analysis of its literal shape, or
// analyses it (outside the lock) and keeps the result.
func (c *Cache) Analyze(sql string) (*Analysis, error) {
	if a, ok := c.Get(sql); ok {
		c.hits.Add(1)
		return a, nil
	}
	if len(sql) > maxCachedText {
		c.misses.Add(1)
		return Analyze(sql)
	}
	key, lits, shaped := literalShape(sql)
	shapeKnown := false
	if shaped {
		c.mu.Lock()
		v, ok := c.shapes.get(key)
		c.mu.Unlock()
		if ok {
			shapeKnown = true
			if se := v.(*shapeEntry); se.a != nil {
				if a := shiftAnalysis(se.a, sql, se.lits, lits); a != nil {
					c.shapeHits.Add(1)
					return a, nil
				}
			}
		}
	}
	c.misses.Add(1)
	v, err, _ := c.flight.Do(sql, func() (any, error) {
		a, err := Analyze(sql)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.exact.put(sql, a)
		c.mu.Unlock()
		if shaped && !shapeKnown && a.Parsed {
			se := &shapeEntry{} // PostgreSQL's scanner disagrees: remembered, so the next text is not scanned twice
			if shapeAgrees(sql, lits) {
				se = &shapeEntry{a: a, lits: lits}
			}
			c.mu.Lock()
			c.shapes.put(key, se)
			c.mu.Unlock()
		}
		return a, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Analysis), nil
}

// Stats returns the counters and the number of cached analyses and shapes.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	n, s := c.exact.len(), c.shapes.len()
	c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), ShapeHits: c.shapeHits.Load(), Misses: c.misses.Load(), Entries: n, Shapes: s}
}

// lru is a bounded least-recently-used map from string to value; the Cache's mutex guards it.
type lru struct {
	max   int
	ll    *list.List // front = most recently used; values are *lruEntry
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	v   any
}

func newLRU(n int) lru {
	return lru{max: n, ll: list.New(), items: make(map[string]*list.Element, min(n, 1024))}
}

func (l *lru) len() int { return l.ll.Len() }

func (l *lru) get(key string) (any, bool) {
	el, ok := l.items[key]
	if !ok {
		return nil, false
	}
	l.ll.MoveToFront(el)
	return el.Value.(*lruEntry).v, true
}

func (l *lru) put(key string, v any) {
	if el, ok := l.items[key]; ok {
		l.ll.MoveToFront(el)
		el.Value.(*lruEntry).v = v
		return
	}
	key = strings.Clone(key) // the caller's text may live in a reused buffer
	l.items[key] = l.ll.PushFront(&lruEntry{key: key, v: v})
	for l.ll.Len() > l.max {
		old := l.ll.Back()
		l.ll.Remove(old)
		delete(l.items, old.Value.(*lruEntry).key)
	}
}
