package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// A ReplyError is an error reply from the server, such as
// "NOAUTH Authentication required.", without the leading '-'.
type ReplyError string

// Error returns the reply text.
func (e ReplyError) Error() string { return string(e) }

// do sends one command to addr on a new connection and reads its reply; it
// authenticates first when password is set. It is a minimal RESP2 client, so
// that the harness does not depend on a Redis client library.
func do(ctx context.Context, addr, password string, args ...string) (any, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	conn, r, err := send(ctx, addr, password, args...)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return readReply(r)
}

// send dials addr, authenticates when password is set, and sends one
// command. It returns the connection, whose deadline is ctx's, and a reader
// at the command's reply; on an error the connection is closed.
func send(ctx context.Context, addr, password string, args ...string) (net.Conn, *bufio.Reader, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (net.Conn, *bufio.Reader, error) {
		conn.Close()
		return nil, nil, err
	}
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return fail(err)
	}
	w := bufio.NewWriter(conn)
	r := bufio.NewReader(conn)
	if password != "" {
		writeCommand(w, "AUTH", password)
	}
	writeCommand(w, args...)
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if password != "" {
		if _, err := readReply(r); err != nil {
			return fail(fmt.Errorf("AUTH: %w", err))
		}
	}
	return conn, r, nil
}

func writeCommand(w *bufio.Writer, args ...string) {
	fmt.Fprintf(w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(w, "$%d\r\n%s\r\n", len(a), a)
	}
}

var errProtocol = errors.New("redistest: malformed reply")

// readReply reads one RESP2 reply: a string for simple and bulk strings, an
// int64, a []any, nil for a nil reply, or a ReplyError.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, errProtocol
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, ReplyError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := length(body)
		if n < 0 || err != nil {
			return nil, err // a nil reply, or a malformed one
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := length(body)
		if n < 0 || err != nil {
			return nil, err // a nil reply, or a malformed one
		}
		arr := make([]any, n)
		for i := range arr {
			v, err := readReply(r)
			var re ReplyError
			if err != nil && !errors.As(err, &re) {
				return nil, err
			}
			if err != nil {
				v = re
			}
			arr[i] = v
		}
		return arr, nil
	}
	return nil, errProtocol
}

// length parses the length of a bulk string or an array: -1 for a nil
// reply, or errProtocol.
func length(body string) (int, error) {
	n, err := strconv.Atoi(body)
	if err != nil || n < -1 {
		return 0, errProtocol
	}
	return n, nil
}
