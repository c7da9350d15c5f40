// Package containercmd runs, for the test harnesses redistest and pgtest,
// the command in internal/redistest/rediscontainer, which starts a server
// in a container through testcontainers-go. That command is a module of its
// own, so that testcontainers, the Docker client and what they need stay
// out of storekit's module graphs; this package runs it with `go run .` in
// its directory, found beside this package's source file, and reads its
// one line of answer ("addr HOST:PORT", "unavailable REASON" or
// "error MESSAGE"). The command removes its container when its standard
// input closes.
//
// It is imported only by test harnesses.
package containercmd
