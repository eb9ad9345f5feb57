package rewrite

// kw is a keyword the lexer acts on. Every other word is kwNone (an identifier or a keyword that does not matter).
type kw uint8

const (
	kwNone kw = iota
	kwAll
	kwAlso
	kwAlter
	kwAnalyze
	kwAs
	kwAtomic
	kwBegin
	kwCall
	kwCase
	kwCollation
	kwValueFunc // CURRENT_DATE, LOCALTIME, CURRENT_USER, … (SQL value functions written without parentheses)
	kwCommit
	kwComment
	kwConcurrently
	kwConnect
	kwCopy
	kwCreate
	kwCross
	kwDeclare
	kwDelete
	kwDescribe
	kwDistinct
	kwDo
	kwDrop
	kwDynamic
	kwEnd
	kwExcept
	kwExists
	kwExplain
	kwExternal
	kwFetch
	kwFirst
	kwFor
	kwForeign
	kwFrom
	kwFunction
	kwGlobal
	kwGrant
	kwGroup
	kwHaving
	kwHybrid
	kwIceberg
	kwIdentifier
	kwIf
	kwIndex
	kwInsert
	kwInstead
	kwIntersect
	kwInto
	kwIs
	kwJoin
	kwLateral
	kwLimit
	kwLocal
	kwLock
	kwMaterialized
	kwMerge
	kwMinus
	kwNot
	kwOffset
	kwOn
	kwOnly
	kwOr
	kwOrder
	kwOverwrite
	kwPrepare
	kwProcedure
	kwQualify
	kwRecursive
	kwRefresh
	kwRename
	kwReplace
	kwReturning
	kwRows
	kwRevoke
	kwRollback
	kwSchema
	kwSecure
	kwSelect
	kwSet
	kwShow
	kwStart
	kwSwap
	kwTable
	kwTemp
	kwTemporary
	kwThen
	kwTo
	kwTransient
	kwTruncate
	kwUnion
	kwUnique
	kwUnlogged
	kwUpdate
	kwUse
	kwUsing
	kwValues
	kwVerbose
	kwView
	kwVolatile
	kwWhen
	kwWhere
	kwWindow
	kwWith
	kwAbort
	kwDeallocate
	kwExecute
	kwReset
	kwSequence
	kwTrigger
	kwVacuum
	kwIn
	kwFuture
	kwOwner
)

// keywordOf classifies an unquoted word, case-insensitively, without allocating.
func keywordOf(w string) kw {
	if len(w) < 2 || len(w) > 17 {
		return kwNone
	}
	var buf [17]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(w)]) {
	case "ALL":
		return kwAll
	case "ALSO":
		return kwAlso
	case "ALTER":
		return kwAlter
	case "ANALYZE", "ANALYSE":
		return kwAnalyze
	case "AS":
		return kwAs
	case "ATOMIC":
		return kwAtomic
	case "BEGIN":
		return kwBegin
	case "CALL":
		return kwCall
	case "CASE":
		return kwCase
	case "COLLATION":
		return kwCollation
	case "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP", "CURRENT_CATALOG",
		"CURRENT_ROLE", "CURRENT_USER", "SESSION_USER", "USER", "CURRENT_SCHEMA", "SYSTEM_USER":
		return kwValueFunc
	case "COMMIT":
		return kwCommit
	case "COMMENT":
		return kwComment
	case "CONCURRENTLY":
		return kwConcurrently
	case "CONNECT":
		return kwConnect
	case "COPY":
		return kwCopy
	case "CREATE":
		return kwCreate
	case "CROSS":
		return kwCross
	case "DECLARE":
		return kwDeclare
	case "DELETE":
		return kwDelete
	case "DESCRIBE", "DESC":
		return kwDescribe
	case "DISTINCT":
		return kwDistinct
	case "DO":
		return kwDo
	case "DROP":
		return kwDrop
	case "DYNAMIC":
		return kwDynamic
	case "END":
		return kwEnd
	case "EXCEPT":
		return kwExcept
	case "EXISTS":
		return kwExists
	case "EXPLAIN":
		return kwExplain
	case "EXTERNAL":
		return kwExternal
	case "FETCH":
		return kwFetch
	case "FIRST":
		return kwFirst
	case "FOR":
		return kwFor
	case "FOREIGN":
		return kwForeign
	case "FROM":
		return kwFrom
	case "FUNCTION":
		return kwFunction
	case "GLOBAL":
		return kwGlobal
	case "GRANT":
		return kwGrant
	case "GROUP":
		return kwGroup
	case "HAVING":
		return kwHaving
	case "HYBRID":
		return kwHybrid
	case "ICEBERG":
		return kwIceberg
	case "IDENTIFIER":
		return kwIdentifier
	case "IF":
		return kwIf
	case "INDEX":
		return kwIndex
	case "INSERT":
		return kwInsert
	case "INSTEAD":
		return kwInstead
	case "INTERSECT":
		return kwIntersect
	case "INTO":
		return kwInto
	case "IS":
		return kwIs
	case "JOIN":
		return kwJoin
	case "LATERAL":
		return kwLateral
	case "LIMIT":
		return kwLimit
	case "LOCAL":
		return kwLocal
	case "LOCK":
		return kwLock
	case "MATERIALIZED":
		return kwMaterialized
	case "MERGE":
		return kwMerge
	case "MINUS":
		return kwMinus
	case "NOT":
		return kwNot
	case "OFFSET":
		return kwOffset
	case "ON":
		return kwOn
	case "ONLY":
		return kwOnly
	case "OR":
		return kwOr
	case "ORDER":
		return kwOrder
	case "OVERWRITE":
		return kwOverwrite
	case "PREPARE":
		return kwPrepare
	case "PROCEDURE":
		return kwProcedure
	case "QUALIFY":
		return kwQualify
	case "RECURSIVE":
		return kwRecursive
	case "REFRESH":
		return kwRefresh
	case "RENAME":
		return kwRename
	case "REPLACE":
		return kwReplace
	case "RETURNING":
		return kwReturning
	case "ROWS":
		return kwRows
	case "REVOKE":
		return kwRevoke
	case "ROLLBACK":
		return kwRollback
	case "SCHEMA":
		return kwSchema
	case "SECURE":
		return kwSecure
	case "SELECT":
		return kwSelect
	case "SET":
		return kwSet
	case "SHOW":
		return kwShow
	case "START":
		return kwStart
	case "SWAP":
		return kwSwap
	case "TABLE":
		return kwTable
	case "TEMP":
		return kwTemp
	case "TEMPORARY":
		return kwTemporary
	case "THEN":
		return kwThen
	case "TO":
		return kwTo
	case "TRANSIENT":
		return kwTransient
	case "TRUNCATE":
		return kwTruncate
	case "UNION":
		return kwUnion
	case "UNIQUE":
		return kwUnique
	case "UNLOGGED":
		return kwUnlogged
	case "UPDATE":
		return kwUpdate
	case "USE":
		return kwUse
	case "USING":
		return kwUsing
	case "VALUES":
		return kwValues
	case "VERBOSE":
		return kwVerbose
	case "VIEW":
		return kwView
	case "VOLATILE":
		return kwVolatile
	case "WHEN":
		return kwWhen
	case "WHERE":
		return kwWhere
	case "WINDOW":
		return kwWindow
	case "WITH":
		return kwWith
	case "ABORT":
		return kwAbort
	case "DEALLOCATE":
		return kwDeallocate
	case "EXECUTE":
		return kwExecute
	case "RESET":
		return kwReset
	case "SEQUENCE":
		return kwSequence
	case "TRIGGER":
		return kwTrigger
	case "VACUUM":
		return kwVacuum
	case "IN":
		return kwIn
	case "FUTURE":
		return kwFuture
	case "OWNER":
		return kwOwner
	}
	return kwNone
}

// reserved reports whether k is a keyword that cannot stand unquoted as a relation name (PostgreSQL reserves it, or
// it is a modifier that the statement readers consume). A word like ROWS or COMMENT can name a table; SELECT cannot.
func reserved(k kw) bool {
	switch k {
	case kwNone, kwRows, kwComment, kwSchema, kwTemp, kwTemporary, kwView, kwStart, kwFirst, kwLocal, kwGlobal,
		kwSequence, kwTrigger, kwFunction, kwProcedure, kwIndex, kwExecute, kwDeallocate, kwReset,
		kwPrepare, kwRefresh, kwRename, kwReplace, kwRecursive, kwExternal, kwDynamic, kwIceberg, kwHybrid,
		kwTransient, kwVolatile, kwSecure, kwOverwrite, kwSwap, kwAtomic, kwAlso, kwInstead, kwIdentifier,
		kwMerge, kwCall, kwCommit, kwRollback, kwAbort, kwBegin, kwLock, kwCopy, kwDelete, kwInsert, kwUpdate,
		kwSet, kwShow, kwUse, kwDescribe, kwDeclare, kwTruncate, kwVacuum, kwExplain, kwQualify, kwMinus,
		kwConnect, kwUnlogged, kwMaterialized, kwValues, kwInto, kwFuture, kwOwner:
		return false
	}
	return true
}
