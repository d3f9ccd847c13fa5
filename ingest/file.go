package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format names an input format.
type Format string

// The formats ReadFile understands.
const (
	FormatJSONL    Format = "jsonl"
	FormatWikitext Format = "wikitext"
	FormatMarkdown Format = "markdown"
)

// DetectFormat picks the format of a file from its name (".jsonl",
// ".ndjson", ".json", ".wiki", ".wikitext", ".md", ".markdown", each
// optionally followed by ".gz") or, for other names, from its first bytes.
func DetectFormat(name string, head []byte) (Format, error) {
	base := strings.ToLower(strings.TrimSuffix(strings.ToLower(name), ".gz"))
	switch filepath.Ext(base) {
	case ".jsonl", ".ndjson", ".json":
		return FormatJSONL, nil
	case ".wiki", ".wikitext", ".mediawiki":
		return FormatWikitext, nil
	case ".md", ".markdown":
		return FormatMarkdown, nil
	}
	head = bytes.TrimLeft(bytes.TrimPrefix(head, bom), " \t\r\n")
	switch {
	case bytes.HasPrefix(head, []byte("{{")):
		return FormatWikitext, nil
	case bytes.HasPrefix(head, []byte("{")):
		return FormatJSONL, nil
	case bytes.HasPrefix(head, []byte("#")) || bytes.HasPrefix(head, []byte("Formats:")):
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("%s: unknown format: name it .jsonl, .wiki or .md (optionally .gz)", name)
}

// Read reads events of the given format from r; see ReadJSONL,
// ReadWikitext and ReadMarkdown.
func Read(format Format, name string, r io.Reader, sink Sink) error {
	switch format {
	case FormatJSONL:
		return ReadJSONL(name, r, sink)
	case FormatWikitext:
		return ReadWikitext(name, r, sink)
	case FormatMarkdown:
		return ReadMarkdown(name, r, sink)
	}
	return fmt.Errorf("%s: unknown format %q", name, format)
}

// ReadFile reads the events of one file, gunzipping it when it starts
// with gzip's magic bytes, whatever its name. If progress is not nil it
// is called with the number of bytes of the file (as stored) read so far.
func ReadFile(path string, sink Sink, progress func(read int64)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open input: %w", err)
	}
	defer f.Close()
	var src io.Reader = f
	if progress != nil {
		src = &countingReader{r: f, report: progress}
	}
	br := bufio.NewReaderSize(src, 256<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); isGzipMagic(magic) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: open gzip: %w", path, err)
		}
		defer gz.Close()
		gz.Multistream(false) // members one by one: gzipMembers
		r = &gzipMembers{gz: gz, br: br}
	}
	content := bufio.NewReaderSize(r, 64<<10)
	head, _ := content.Peek(512)
	format, err := DetectFormat(path, head)
	if err != nil {
		return err
	}
	return Read(format, path, content, sink)
}

// IsGzip reports whether the file at path starts with gzip's magic bytes.
// A file that is not a regular one (a pipe, /dev/stdin, a FIFO) is not
// read, and reported false: its first bytes, read here, would be gone for
// the reader after.
func IsGzip(path string) (bool, error) {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return false, err
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	magic := make([]byte, 2)
	n, _ := io.ReadFull(f, magic)
	return isGzipMagic(magic[:n]), nil
}

func isGzipMagic(b []byte) bool { return len(b) == 2 && b[0] == 0x1f && b[1] == 0x8b }

// gzipMembers reads the members of a gzip file one after another, as
// gzip -d does, and ends at zero bytes after the last: archives padded
// to a block with zeros (tape and some copy tools) are read whole, where
// the next member's header was looked for in the zeros and the build
// failed ("gzip: invalid header") though every event had been read.
// Anything else after a member is the error it was.
type gzipMembers struct {
	gz *gzip.Reader
	br *bufio.Reader
}

func (m *gzipMembers) Read(p []byte) (int, error) {
	for {
		n, err := m.gz.Read(p)
		if err != io.EOF {
			return n, err
		}
		// A member ended: another follows, zeros end the file, or the
		// bytes after it are an error.
		next, perr := m.br.Peek(1)
		switch {
		case perr == io.EOF:
			return n, io.EOF
		case perr != nil:
			return n, perr
		case next[0] == 0:
			if zerr := m.zerosToEnd(); zerr != nil {
				return n, zerr
			}
			return n, io.EOF
		}
		if rerr := m.gz.Reset(m.br); rerr != nil {
			return n, rerr
		}
		m.gz.Multistream(false)
		if n > 0 {
			return n, nil
		}
	}
}

// zerosToEnd reads the rest of the file, which must be zero bytes.
func (m *gzipMembers) zerosToEnd() error {
	buf := make([]byte, 32<<10)
	for {
		n, err := m.br.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return gzip.ErrHeader // bytes after the zeros: not padding
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

type countingReader struct {
	r      io.Reader
	n      int64
	report func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.report(c.n)
	return n, err
}
