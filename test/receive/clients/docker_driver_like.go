// A real client for the interop test: Debian's fluent-logger-golang, the library inside Docker's
// fluentd log driver, sending records shaped as the driver sends them. Built during the test.
// Usage: client PORT|/unix/socket/path COUNT ACK(0|1) SUBSECOND(0|1)
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
)

func main() {
	port, _ := strconv.Atoi(os.Args[1])
	network, socketPath := "tcp", ""
	if strings.HasPrefix(os.Args[1], "/") {
		network, socketPath = "unix", os.Args[1]
	}
	count, _ := strconv.Atoi(os.Args[2])
	ack := os.Args[3] == "1"
	subSecond := os.Args[4] == "1"
	logger, err := fluent.New(fluent.Config{
		FluentHost:         "127.0.0.1",
		FluentPort:         port,
		FluentNetwork:      network,
		FluentSocketPath:   socketPath,
		RequestAck:         ack,
		SubSecondPrecision: subSecond,
		Timeout:            10 * time.Second,
		WriteTimeout:       10 * time.Second,
		MaxRetry:           3,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(2)
	}
	for i := 0; i < count; i++ {
		record := map[string]string{
			"container_id":   "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70",
			"container_name": "/web-1",
			"source":         []string{"stdout", "stderr"}[i%2],
			"log":            fmt.Sprintf("go line %d {\"level\":\"info\"}", i),
		}
		ts := time.Unix(int64(1700000000+i), int64((i*999983)%1000000000))
		if err := logger.PostWithTime("docker.3f2a1b4c5d6e", ts, record); err != nil {
			fmt.Fprintln(os.Stderr, "post:", err)
			os.Exit(2)
		}
	}
	if err := logger.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		os.Exit(2)
	}
	fmt.Println("done")
}
