// Command exportverify is an independent verifier of Seeker Ledger audit
// exports, written only from the format document docs/integrity.md (the
// section numbers below, "§n", refer to that document).
//
// Usage:
//
//	exportverify DIR [VERIFIER-KEY]
//
// It reads DIR/manifest.json and DIR/events.jsonl (§7) and checks:
//
//   - events_sha256: the hex SHA-256 of events.jsonl as written;
//   - the manifest's count, first_notification_id, last_notification_id and
//     tree_size against the lines;
//   - for every line, in order: that leaf_index counts 0, 1, 2, …; that
//     notification ids increase; that versions count 1, 2, 3, … per account;
//     the event digest (§2) recomputed from topic and state; the stream hash
//     (§3) recomputed from the previous one of the same account, in the
//     format (§5) the row's principal selects;
//   - the leaf hashes and the RFC 9162 tree hash of all tree_size leaves
//     (§4) against tree_root;
//   - when manifest.latest_checkpoint is not null: its shape (§6), its
//     origin against the manifest's, and the tree hash at its size against
//     its root; and, when VERIFIER-KEY (name+hash+base64) is given, its
//     Ed25519 signature, checked twice: once by hand exactly as §6 words it,
//     and once through golang.org/x/mod/sumdb/note, which §6 says takes the
//     key "as is" (the two must agree).
//
// Output: on success exactly one line on stdout,
//
//	ok: N events, M streams, tree size S, root R
//
// and exit status 0. Informational remarks (for instance an unsigned latest
// checkpoint while a key was given) go to stderr as "note: ..." lines so
// that stdout stays one line. On any mismatch: one "finding: ..." line per
// finding on stdout and exit status 1. On unreadable input (missing file,
// text that is not JSON, a malformed verifier key): "error: ..." and exit
// status 2.
//
// The tree and the stream chains are rebuilt from the raw data alone
// (topic, state, principal, account, version, notification id): the
// recorded event_digest and stream_hash values are only compared with, never
// fed into, the recomputed tree. To localise a tampered row, each recorded
// stream hash is compared with the hash recomputed from the *recorded*
// previous link; by induction, all these links holding is the same as the
// recomputed chain equalling the recorded one.
//
// Build (Go 1.19, Debian's x/mod):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o exportverify .
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Domain-separation tags (§3, §4): the ASCII text followed by one zero byte.
var (
	tagStreamV1 = []byte("seekers/stream/v1\x00")
	tagStreamV2 = []byte("seekers/stream/v2\x00")
	tagLeafV1   = []byte("seekers/leaf/v1\x00")
	tagLeafV2   = []byte("seekers/leaf/v2\x00")
)

// keyName is the signing key's name that §6 states.
const keyName = "seekers-audit"

// Export formats (§7).
const (
	exportFormat1 = "seekers-export/1"
	exportFormat2 = "seekers-export/2"
)

// canonicalUUID is the canonical, lowercase text form of a UUID (§1, §7).
var canonicalUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// anyCaseUUID accepts the same shape in either case, so that an upper-case
// id can be parsed (and reported as non-canonical) rather than rejected.
var anyCaseUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkpointTime is the time extension line of §6.
var checkpointTime = regexp.MustCompile(`^time [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)

// inputError marks unreadable input (exit status 2).
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func inputErrorf(format string, args ...interface{}) error {
	return &inputError{fmt.Sprintf(format, args...)}
}

// verifier collects findings and notes while checking one export.
type verifier struct {
	findings []string
	notes    []string
}

func (v *verifier) findingf(format string, args ...interface{}) {
	v.findings = append(v.findings, fmt.Sprintf(format, args...))
}

func (v *verifier) notef(format string, args ...interface{}) {
	v.notes = append(v.notes, fmt.Sprintf(format, args...))
}

// ---------------------------------------------------------------------------
// Byte-level primitives (§2, §3, §4).

func u32(n uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	return b[:]
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func sha(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// eventDigest is §2:
// SHA-256( u32(len(utf8(topic))) || utf8(topic) || u64(len(state)) || state ).
func eventDigest(topic string, state []byte) []byte {
	t := []byte(topic)
	return sha(u32(uint32(len(t))), t, u64(uint64(len(state))), state)
}

// streamHash is §3. principal == nil selects format 1, otherwise format 2.
func streamHash(previous []byte, account [16]byte, version uint64, digest []byte, principal *string) []byte {
	if principal == nil {
		return sha(tagStreamV1, previous, account[:], u64(version), digest)
	}
	p := []byte(*principal)
	return sha(tagStreamV2, previous, account[:], u64(version), digest, u32(uint32(len(p))), p)
}

// leafHash is §4: SHA-256(0x00 || leaf_data), leaf_data in the row's format.
func leafHash(notificationID uint64, stream []byte, format2 bool) []byte {
	tag := tagLeafV1
	if format2 {
		tag = tagLeafV2
	}
	return sha([]byte{0x00}, tag, u64(notificationID), stream)
}

func nodeHash(left, right []byte) []byte {
	return sha([]byte{0x01}, left, right)
}

// treeHash is RFC 9162 §2.1.1's Merkle Tree Hash over the given leaf hashes.
func treeHash(leaves [][]byte) []byte {
	switch n := len(leaves); n {
	case 0:
		return sha()
	case 1:
		return leaves[0]
	default:
		k := 1 // the largest power of two smaller than n
		for k<<1 < n {
			k <<= 1
		}
		return nodeHash(treeHash(leaves[:k]), treeHash(leaves[k:]))
	}
}

// accountBytes turns the canonical UUID text into its 16 bytes (§1: "the
// 32 hex digits of the canonical form, read as bytes left to right").
func accountBytes(s string) ([16]byte, error) {
	var out [16]byte
	if !anyCaseUUID.MatchString(s) {
		return out, fmt.Errorf("not a UUID: %q", s)
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil {
		return out, err
	}
	copy(out[:], b)
	return out, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// decode32 decodes a base64 field that must hold a 32-byte hash.
func decode32(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("%d bytes, not 32", len(b))
	}
	return b, nil
}

// ---------------------------------------------------------------------------
// JSON reading. Numbers are read as json.Number so that ids are exact
// unsigned 64-bit integers (no float rounding).

func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON object")
	}
	return obj, nil
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func getString(obj map[string]json.RawMessage, key string) (string, error) {
	raw, ok := obj[key]
	if !ok {
		return "", fmt.Errorf("missing key %q", key)
	}
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("key %q is not a string", key)
	}
	return s, nil
}

func getUint(obj map[string]json.RawMessage, key string) (uint64, error) {
	raw, ok := obj[key]
	if !ok {
		return 0, fmt.Errorf("missing key %q", key)
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("key %q is not an unsigned integer: %s", key, raw)
	}
	return n, nil
}

// getOptUint reads an integer that may be null (first/last notification id
// of an empty export). present is false for null.
func getOptUint(obj map[string]json.RawMessage, key string) (n uint64, present bool, err error) {
	raw, ok := obj[key]
	if !ok {
		return 0, false, fmt.Errorf("missing key %q", key)
	}
	if isNull(raw) {
		return 0, false, nil
	}
	n, err = getUint(obj, key)
	return n, err == nil, err
}

// ---------------------------------------------------------------------------
// The manifest (§7).

type manifest struct {
	format           string
	origin           string
	count            uint64
	firstID, lastID  uint64
	hasFirst         bool
	hasLast          bool
	treeSize         uint64
	treeRoot         string
	chainedFrom      json.RawMessage
	latestCheckpoint *string
	eventsSHA256     string
}

func readManifest(path string) (*manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, inputErrorf("cannot read manifest: %v", err)
	}
	obj, err := decodeObject(data)
	if err != nil {
		return nil, inputErrorf("%s is not a JSON object: %v", path, err)
	}
	m := &manifest{}
	bad := func(err error) error { return inputErrorf("%s: %v", path, err) }
	if m.format, err = getString(obj, "format"); err != nil {
		return nil, bad(err)
	}
	if m.format != exportFormat1 && m.format != exportFormat2 {
		return nil, inputErrorf("%s: unknown format %q (expected %s or %s)", path, m.format, exportFormat2, exportFormat1)
	}
	if m.origin, err = getString(obj, "origin"); err != nil {
		return nil, bad(err)
	}
	if m.count, err = getUint(obj, "count"); err != nil {
		return nil, bad(err)
	}
	if m.firstID, m.hasFirst, err = getOptUint(obj, "first_notification_id"); err != nil {
		return nil, bad(err)
	}
	if m.lastID, m.hasLast, err = getOptUint(obj, "last_notification_id"); err != nil {
		return nil, bad(err)
	}
	if m.treeSize, err = getUint(obj, "tree_size"); err != nil {
		return nil, bad(err)
	}
	if m.treeRoot, err = getString(obj, "tree_root"); err != nil {
		return nil, bad(err)
	}
	if raw, ok := obj["chained_from"]; ok {
		m.chainedFrom = raw
	} else {
		return nil, bad(errors.New(`missing key "chained_from"`))
	}
	raw, ok := obj["latest_checkpoint"]
	if !ok {
		return nil, bad(errors.New(`missing key "latest_checkpoint"`))
	}
	if !isNull(raw) {
		s, err := getString(obj, "latest_checkpoint")
		if err != nil {
			return nil, bad(err)
		}
		m.latestCheckpoint = &s
	}
	if m.eventsSHA256, err = getString(obj, "events_sha256"); err != nil {
		return nil, bad(err)
	}
	return m, nil
}

// ---------------------------------------------------------------------------
// One line of events.jsonl (§7).

type event struct {
	line           int // 1-based line number in events.jsonl
	notificationID uint64
	accountText    string
	account        [16]byte
	accountOK      bool
	version        uint64
	topic          string
	state          []byte
	stateOK        bool
	eventDigest    []byte // recorded, nil if undecodable
	streamHash     []byte // recorded, nil if undecodable
	leafIndex      uint64
	principal      *string // nil: format 1
	hasPrincipal   bool    // whether the "principal" key is present at all
}

// who names a row in findings.
func (e *event) who() string {
	return fmt.Sprintf("notification %d (account %s version %d, line %d)", e.notificationID, e.accountText, e.version, e.line)
}

// parseEvent reads one line. Structural problems (not JSON, a required key
// missing or of the wrong type) make the input unreadable; bad values
// (base64 that does not decode, a malformed UUID) are findings, so that a
// tampered byte is reported as such.
func (v *verifier) parseEvent(lineNo int, data []byte) (*event, error) {
	obj, err := decodeObject(data)
	if err != nil {
		return nil, inputErrorf("events.jsonl line %d: %v", lineNo, err)
	}
	e := &event{line: lineNo}
	bad := func(err error) error { return inputErrorf("events.jsonl line %d: %v", lineNo, err) }
	if e.notificationID, err = getUint(obj, "notification_id"); err != nil {
		return nil, bad(err)
	}
	if e.accountText, err = getString(obj, "originator_id"); err != nil {
		return nil, bad(err)
	}
	if e.version, err = getUint(obj, "originator_version"); err != nil {
		return nil, bad(err)
	}
	if e.topic, err = getString(obj, "topic"); err != nil {
		return nil, bad(err)
	}
	stateText, err := getString(obj, "state")
	if err != nil {
		return nil, bad(err)
	}
	digestText, err := getString(obj, "event_digest")
	if err != nil {
		return nil, bad(err)
	}
	streamText, err := getString(obj, "stream_hash")
	if err != nil {
		return nil, bad(err)
	}
	if e.leafIndex, err = getUint(obj, "leaf_index"); err != nil {
		return nil, bad(err)
	}
	if raw, ok := obj["principal"]; ok {
		e.hasPrincipal = true
		if !isNull(raw) {
			var p string
			if json.Unmarshal(raw, &p) != nil {
				return nil, bad(errors.New(`key "principal" is neither text nor null`))
			}
			e.principal = &p
		}
	}

	// Values.
	if e.account, err = accountBytes(e.accountText); err != nil {
		v.findingf("%s: originator_id: %v", e.who(), err)
	} else {
		e.accountOK = true
		if !canonicalUUID.MatchString(e.accountText) {
			v.findingf("%s: originator_id is not in canonical (lowercase) form", e.who())
		}
	}
	if e.state, err = base64.StdEncoding.Strict().DecodeString(stateText); err != nil {
		v.findingf("%s: state is not valid base64: %v", e.who(), err)
	} else {
		e.stateOK = true
	}
	if e.eventDigest, err = decode32(digestText); err != nil {
		v.findingf("%s: event_digest is not a base64 SHA-256: %v", e.who(), err)
	}
	if e.streamHash, err = decode32(streamText); err != nil {
		v.findingf("%s: stream_hash is not a base64 SHA-256: %v", e.who(), err)
	}
	return e, nil
}

// splitLines splits events.jsonl into its lines. Every line, the last one
// included, is expected to end with "\n"; a missing final newline is
// tolerated (the line is still read) but reported.
func (v *verifier) splitLines(data []byte) [][]byte {
	if len(data) == 0 {
		return nil
	}
	lines := bytes.Split(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	} else {
		v.findingf("events.jsonl: the last line has no terminating newline")
	}
	return lines
}

// ---------------------------------------------------------------------------
// Per-account chain state.

type stream struct {
	version    uint64 // last version seen in log order
	recorded   []byte // recorded stream_hash of the last row seen
	recomputed []byte // recomputed stream_hash of the last row seen
	format2    bool   // a format-2 row has been seen on this account
}

// ---------------------------------------------------------------------------
// The checkpoint (§6).

type checkpoint struct {
	origin string
	size   uint64
	root   []byte
	signed []byte   // the text the signature covers: up to the blank line
	sigs   []string // the signature lines, without their newline
}

// parseCheckpoint reads the note text. A signed note is the checkpoint body,
// a blank line and one or more "— name base64" lines. An unsigned one is
// not described by §6 (which only shows signed notes); `seekers audit
// checkpoint` without a key emits the body and a blank line with nothing
// after it, which is accepted, as is the bare body.
func parseCheckpoint(text string) (*checkpoint, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("does not end with a newline")
	}
	cp := &checkpoint{}
	body := text
	if i := strings.Index(text, "\n\n"); i >= 0 {
		body = text[:i+1]
		rest := text[i+2:]
		if rest != "" {
			cp.sigs = strings.Split(strings.TrimSuffix(rest, "\n"), "\n")
		}
	}
	cp.signed = []byte(body)
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("body has %d lines, at least 3 expected", len(lines))
	}
	cp.origin = lines[0]
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return nil, fmt.Errorf("tree size %q is not a decimal number", lines[1])
	}
	cp.size = size
	if cp.root, err = decode32(lines[2]); err != nil {
		return nil, fmt.Errorf("root hash %q: %v", lines[2], err)
	}
	if len(lines) < 4 || !checkpointTime.MatchString(lines[3]) {
		return nil, errors.New(`fourth line is not "time YYYY-MM-DDTHH:MM:SSZ"`)
	}
	if len(lines) > 4 {
		return nil, fmt.Errorf("unexpected extra body lines %q", lines[4:])
	}
	return cp, nil
}

// verifierKey is a parsed signed-note verifier key name+hash+base64(0x01||pub).
type verifierKey struct {
	text  string
	name  string
	keyID [4]byte
	pub   ed25519.PublicKey
}

// parseVerifierKey parses and checks the key by hand, as §6 describes it.
func parseVerifierKey(s string) (*verifierKey, error) {
	parts := strings.SplitN(s, "+", 3)
	if len(parts) != 3 {
		return nil, errors.New("not of the form name+hash+base64")
	}
	k := &verifierKey{text: s, name: parts[0]}
	if k.name == "" {
		return nil, errors.New("empty key name")
	}
	id, err := hex.DecodeString(parts[1])
	if err != nil || len(id) != 4 {
		return nil, fmt.Errorf("key id %q is not 8 hex digits", parts[1])
	}
	copy(k.keyID[:], id)
	raw, err := base64.StdEncoding.Strict().DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("key is not base64: %v", err)
	}
	if len(raw) != 33 || raw[0] != 0x01 {
		return nil, errors.New("key is not 0x01 followed by a 32-byte Ed25519 public key")
	}
	k.pub = ed25519.PublicKey(raw[1:])
	// §6: key id = first four bytes of SHA-256(utf8(name) || 0x0A || 0x01 || pub).
	want := sha([]byte(k.name), []byte{0x0A}, raw)[:4]
	if !bytes.Equal(want, id) {
		return nil, fmt.Errorf("key id %s does not match the key (expected %x)", parts[1], want)
	}
	return k, nil
}

// checkSignature checks the checkpoint's signature with the key, by hand
// (§6) and through golang.org/x/mod/sumdb/note, and reports any
// disagreement between the two.
func (v *verifier) checkSignature(text string, cp *checkpoint, key *verifierKey) {
	if len(cp.sigs) == 0 {
		v.notef("the latest checkpoint has no signature line; its signature was not checked")
		return
	}
	// By hand.
	manual := false
	matched := false
	for _, line := range cp.sigs {
		const prefix = "\u2014 " // "— ": EM DASH, space
		if !strings.HasPrefix(line, prefix) {
			v.findingf("checkpoint: signature line %q does not start with %q", line, prefix)
			continue
		}
		name, sigText, ok := strings.Cut(strings.TrimPrefix(line, prefix), " ")
		if !ok {
			v.findingf("checkpoint: signature line %q has no signature", line)
			continue
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(sigText)
		if err != nil || len(sig) != 4+ed25519.SignatureSize {
			v.findingf("checkpoint: signature of %q is not base64 of a 4-byte key id and 64-byte signature", name)
			continue
		}
		if name != key.name || !bytes.Equal(sig[:4], key.keyID[:]) {
			continue // another key's signature
		}
		matched = true
		if ed25519.Verify(key.pub, cp.signed, sig[4:]) {
			manual = true
		}
	}
	if !matched {
		v.findingf("checkpoint: no signature by key %s+%x (signature lines: %q)", key.name, key.keyID, cp.sigs)
	} else if !manual {
		v.findingf("checkpoint: the Ed25519 signature by %s+%x does not verify", key.name, key.keyID)
	}

	// Through the note package, which §6 says takes the key as is.
	nv, err := note.NewVerifier(key.text)
	if err != nil {
		v.findingf("checkpoint: golang.org/x/mod/sumdb/note rejects the verifier key: %v", err)
		return
	}
	n, err := note.Open([]byte(text), note.VerifierList(nv))
	viaNote := err == nil && len(n.Sigs) > 0
	if viaNote != manual {
		v.findingf("checkpoint: hand-made check (%v) and golang.org/x/mod/sumdb/note (%v, %v) disagree", manual, viaNote, err)
	}
	if err == nil && n.Text != string(cp.signed) {
		v.findingf("checkpoint: the note package's signed text differs from the one §6 describes")
	}
}

// ---------------------------------------------------------------------------
// The whole verification.

type result struct {
	events   int
	streams  int
	treeSize uint64
	root     []byte
}

func (v *verifier) verify(dir string, keyText string) (*result, error) {
	var key *verifierKey
	if keyText != "" {
		k, err := parseVerifierKey(keyText)
		if err != nil {
			return nil, inputErrorf("verifier key: %v", err)
		}
		if k.name != keyName {
			v.notef("the verifier key's name is %q, not %q as §6 states", k.name, keyName)
		}
		key = k
	}

	m, err := readManifest(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		return nil, inputErrorf("cannot read events: %v", err)
	}

	// events_sha256: hex SHA-256 of events.jsonl as written.
	if got := hex.EncodeToString(sha(data)); got != m.eventsSHA256 {
		v.findingf("manifest: events_sha256 is %s but events.jsonl hashes to %s", m.eventsSHA256, got)
	}

	// The origin must be seekers.ledger/<the store's UUID> (§6).
	if !strings.HasPrefix(m.origin, "seekers.ledger/") || !canonicalUUID.MatchString(strings.TrimPrefix(m.origin, "seekers.ledger/")) {
		v.findingf("manifest: origin %q is not seekers.ledger/<UUID>", m.origin)
	}

	// chained_from (§5, §7): the document gives neither its type nor the
	// exact boundary, so it is only reported, never checked. 0 or null
	// (seen on stores chained from their first event) needs no remark.
	if cf := strings.TrimSpace(string(m.chainedFrom)); cf != "0" && cf != "null" {
		v.notef("manifest: chained_from is %s: per §5 the principals of events stored before the store was chained name the login that chained them, not their writer", cf)
	}

	lines := v.splitLines(data)
	events := make([]*event, 0, len(lines))
	for i, line := range lines {
		e, err := v.parseEvent(i+1, line)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}

	// Walk the log in order.
	streams := map[[16]byte]*stream{}
	leaves := make([][]byte, 0, len(events))
	sawFormat2 := false
	var prevID uint64
	for i, e := range events {
		// Leaf index: the event's position in the log. To keep one finding
		// per break (a deleted line would otherwise shift every later
		// index), each index is compared with the previous line's recorded
		// one; the first must be 0. Both together hold exactly when every
		// leaf_index equals its line's position.
		switch {
		case i == 0 && e.leafIndex != 0:
			v.findingf("%s: leaf_index is %d, expected 0 on the first line", e.who(), e.leafIndex)
		case i > 0 && e.leafIndex != events[i-1].leafIndex+1:
			v.findingf("%s: leaf_index is %d after %d on the previous line (position in the log: %d)", e.who(), e.leafIndex, events[i-1].leafIndex, i)
		}
		// Notification ids increase in log order (gaps allowed, §1).
		if i > 0 && e.notificationID <= prevID {
			v.findingf("%s: notification id does not increase (previous line has %d)", e.who(), prevID)
		}
		prevID = e.notificationID

		// Format (§5, §7).
		format2 := e.principal != nil
		switch {
		case m.format == exportFormat1 && e.hasPrincipal:
			v.findingf("%s: a %s export line has a principal key", e.who(), exportFormat1)
		case m.format == exportFormat2 && !e.hasPrincipal:
			v.findingf("%s: a %s export line has no principal key", e.who(), exportFormat2)
		}
		// §5: every row written since principals existed has one, so no
		// format-1 row may follow a format-2 row in the log.
		if !format2 && sawFormat2 {
			v.findingf("%s: format-1 row (no principal) after a format-2 row in the log", e.who())
		}
		if format2 {
			sawFormat2 = true
		}

		// Event digest (§2).
		digest := eventDigest(e.topic, e.state)
		if !e.stateOK {
			digest = make([]byte, 32) // already reported; keeps the walk going
		} else if e.eventDigest != nil && !bytes.Equal(digest, e.eventDigest) {
			v.findingf("%s: event_digest mismatch: recorded %s, computed %s", e.who(), b64(e.eventDigest), b64(digest))
		}

		// Versions 1, 2, 3, … per account, and the stream chain (§3).
		s := streams[e.account]
		if s == nil {
			s = &stream{recorded: make([]byte, 32), recomputed: make([]byte, 32)}
			streams[e.account] = s
		}
		if e.version != s.version+1 {
			v.findingf("%s: version %d follows version %d of the account", e.who(), e.version, s.version)
		}
		if s.format2 && !format2 {
			v.findingf("%s: format-1 row after a format-2 row of the same account", e.who())
		}
		s.format2 = s.format2 || format2
		// Localised check: the recorded link against the recorded previous one.
		if e.streamHash != nil && e.accountOK {
			fromRecorded := streamHash(s.recorded, e.account, e.version, digest, e.principal)
			if !bytes.Equal(fromRecorded, e.streamHash) {
				v.findingf("%s: stream_hash mismatch: recorded %s, computed %s", e.who(), b64(e.streamHash), b64(fromRecorded))
			}
		}
		// Independent chain, from raw data only: this feeds the tree.
		recomputed := streamHash(s.recomputed, e.account, e.version, digest, e.principal)
		s.version = e.version
		s.recomputed = recomputed
		if e.streamHash != nil {
			s.recorded = e.streamHash
		} else {
			s.recorded = recomputed
		}

		leaves = append(leaves, leafHash(e.notificationID, recomputed, format2))
	}

	// Manifest against the lines.
	n := uint64(len(events))
	if m.count != n {
		v.findingf("manifest: count is %d but events.jsonl has %d lines", m.count, n)
	}
	if n > 0 {
		if !m.hasFirst || m.firstID != events[0].notificationID {
			v.findingf("manifest: first_notification_id is %s but the first line has %d", showOpt(m.firstID, m.hasFirst), events[0].notificationID)
		}
		if !m.hasLast || m.lastID != events[n-1].notificationID {
			v.findingf("manifest: last_notification_id is %s but the last line has %d", showOpt(m.lastID, m.hasLast), events[n-1].notificationID)
		}
	}
	if m.treeSize != n {
		v.findingf("manifest: tree_size is %d but events.jsonl has %d lines", m.treeSize, n)
	}

	// The tree hash of all tree_size leaves (§4, §7).
	var root []byte
	if m.treeSize <= n {
		root = treeHash(leaves[:m.treeSize])
		want, err := decode32(m.treeRoot)
		switch {
		case err != nil:
			v.findingf("manifest: tree_root is not a base64 SHA-256: %v", err)
		case !bytes.Equal(want, root):
			v.findingf("manifest: tree_root mismatch: recorded %s, computed %s over %d leaves", m.treeRoot, b64(root), m.treeSize)
		}
	} else {
		v.findingf("manifest: tree_size %d exceeds the %d events exported; the tree cannot be recomputed", m.treeSize, n)
	}

	// The latest checkpoint (§6).
	if m.latestCheckpoint == nil {
		if key != nil {
			v.notef("the manifest has no checkpoint (latest_checkpoint is null); nothing to check the key against")
		}
	} else {
		text := *m.latestCheckpoint
		cp, err := parseCheckpoint(text)
		if err != nil {
			v.findingf("checkpoint: malformed: %v", err)
		} else {
			if cp.origin != m.origin {
				v.findingf("checkpoint: origin %q differs from the manifest's %q", cp.origin, m.origin)
			}
			if cp.size > n {
				v.findingf("checkpoint: size %d exceeds the %d events exported", cp.size, n)
			} else if got := treeHash(leaves[:cp.size]); !bytes.Equal(got, cp.root) {
				v.findingf("checkpoint: root mismatch at size %d: checkpoint %s, computed %s", cp.size, b64(cp.root), b64(got))
			}
			if cp.size > m.treeSize {
				v.findingf("checkpoint: size %d is larger than the manifest's tree_size %d", cp.size, m.treeSize)
			}
			if key != nil {
				v.checkSignature(text, cp, key)
			} else if len(cp.sigs) == 0 {
				v.notef("the latest checkpoint has no signature line")
			}
		}
	}

	return &result{events: len(events), streams: len(streams), treeSize: m.treeSize, root: root}, nil
}

func showOpt(n uint64, present bool) string {
	if !present {
		return "null"
	}
	return strconv.FormatUint(n, 10)
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: exportverify DIR [VERIFIER-KEY]")
		os.Exit(2)
	}
	keyText := ""
	if len(os.Args) == 3 {
		keyText = os.Args[2]
	}
	v := &verifier{}
	res, err := v.verify(os.Args[1], keyText)
	for _, n := range v.notes {
		fmt.Fprintf(os.Stderr, "note: %s\n", n)
	}
	if err != nil {
		fmt.Printf("error: %v\n", err)
		os.Exit(2)
	}
	if len(v.findings) > 0 {
		for _, f := range v.findings {
			fmt.Printf("finding: %s\n", f)
		}
		os.Exit(1)
	}
	fmt.Printf("ok: %d events, %d streams, tree size %d, root %s\n", res.events, res.streams, res.treeSize, b64(res.root))
}
