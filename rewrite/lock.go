package rewrite

import pg_query "github.com/pganalyze/pg_query_go/v5"

// fromClause walks a SELECT's FROM items. With a locking clause (FOR UPDATE, NO KEY UPDATE, SHARE, KEY SHARE) the
// relations it locks are pinned (Role Pin): locking marks their rows and blocks their writers, so a locked
// reference is never deferred to production and a locked production relation is refused like a write (SPEC §5.2,
// §6). Without OF every FROM item is locked; with OF the items of those names or aliases. Everything read inside
// a locked item (its subqueries too) is pinned: a superset of what PostgreSQL locks, never a subset.
func (w *walker) fromClause(items, locks []*pg_query.Node) {
	if len(locks) == 0 {
		w.nodes(items)
		return
	}
	all := false
	var names []string
	for _, l := range locks {
		lc := l.GetLockingClause()
		if lc == nil {
			continue
		}
		if len(lc.LockedRels) == 0 {
			all = true
		}
		for _, r := range lc.LockedRels {
			if rv := r.GetRangeVar(); rv != nil {
				names = append(names, rv.Relname)
			}
		}
	}
	for _, it := range items {
		w.fromItem(it, all, names)
	}
}

// fromItem walks one FROM item, pinned when the locking clause names it (or names nothing).
func (w *walker) fromItem(it *pg_query.Node, all bool, names []string) {
	if j := it.GetJoinExpr(); j != nil && !all {
		w.fromItem(j.Larg, all, names)
		w.fromItem(j.Rarg, all, names)
		w.node(j.Quals)
		return
	}
	locked := all
	if !locked {
		var name string
		switch {
		case it.GetRangeVar() != nil:
			rv := it.GetRangeVar()
			name = rv.Relname
			if rv.Alias != nil {
				name = rv.Alias.Aliasname
			}
		case it.GetRangeSubselect() != nil && it.GetRangeSubselect().Alias != nil:
			name = it.GetRangeSubselect().Alias.Aliasname
		case it.GetRangeFunction() != nil && it.GetRangeFunction().Alias != nil:
			name = it.GetRangeFunction().Alias.Aliasname
		}
		for _, n := range names {
			if n == name {
				locked = true
				break
			}
		}
	}
	if !locked {
		w.node(it)
		return
	}
	prev := w.pin
	w.pin = true
	w.node(it)
	w.pin = prev
}
