package rewrite

import (
	"fmt"
	"sync"
	"testing"
)

func TestCacheLRU(t *testing.T) {
	c := NewCache(2)
	a1, err := c.Analyze("select * from s.a")
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := c.Analyze("select * from s.a"); a != a1 {
		t.Error("second Analyze of the same text did not return the cached analysis")
	}
	c.Analyze("select * from s.b")
	c.Get("select * from s.a") // a is now the most recently used
	c.Analyze("select * from s.c")
	if _, ok := c.Get("select * from s.b"); ok {
		t.Error("least recently used entry was not evicted")
	}
	if _, ok := c.Get("select * from s.a"); !ok {
		t.Error("recently used entry was evicted")
	}
	st := c.Stats()
	if st.Entries != 2 || st.Hits != 1 || st.Misses != 3 {
		t.Errorf("stats = %+v, want 2 entries, 1 hit, 3 misses", st)
	}
	if _, err := c.Analyze("select 1\x00"); err == nil {
		t.Error("NUL byte accepted")
	}
	if st := c.Stats(); st.Entries != 2 {
		t.Errorf("an error was cached: %+v", st)
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(16)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				sql := fmt.Sprintf("select * from dbt_fabio.t%d", (i+g)%40)
				a, err := c.Analyze(sql)
				if err != nil || len(a.Statements) != 1 || len(a.Statements[0].References) != 1 {
					t.Errorf("Analyze(%q) = %+v, %v", sql, a, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if st := c.Stats(); st.Entries > 16 || st.Hits+st.Misses != 1600 {
		t.Errorf("stats = %+v", st)
	}
}

func TestCacheLex(t *testing.T) {
	c := NewCache(2)
	sql := "select * from db.dbt_dev.t // c\n;"
	a := c.Lex(sql, Snowflake)
	if a.Parsed || a.Dialect != Snowflake || len(a.Statements) != 1 || len(a.Statements[0].References) != 1 {
		t.Fatalf("Lex: %+v", a)
	}
	if b := c.Lex(sql, Snowflake); b != a {
		t.Fatal("the second Lex of the same text was not the cached analysis")
	}
	if p := c.Lex(sql, Postgres); p == a || p.Dialect != Postgres {
		t.Fatal("a cached Snowflake analysis was handed out for another dialect")
	}
	if st := c.Stats(); st.Hits != 1 || st.Misses != 2 {
		t.Fatalf("stats %+v, want 1 hit and 2 misses", st)
	}
	if _, ok := c.Get(sql); ok {
		t.Fatal("a lexed analysis is in the parser's exact cache")
	}
}
