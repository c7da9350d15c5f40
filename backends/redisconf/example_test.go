package redisconf_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/kv"
)

// ParseURL reads the settings a service receives as a URL, such as the
// value of REDIS_URL; the Config prints without its password.
func ExampleParseURL() {
	cfg, err := redisconf.ParseURL("rediss://app:s3cret@cache.internal:6380/2?dial_timeout=3s")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg)
	fmt.Println(cfg.Addr(), cfg.DB, cfg.Username, cfg.TLS != nil, cfg.DialTimeout)

	sentinel, err := redisconf.ParseURL("redis+sentinel://:s3cret@10.0.0.1,10.0.0.2:26380/mymaster")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v: master %q from %v\n", sentinel, sentinel.MasterName, sentinel.SentinelAddrs)

	_, err = redisconf.ParseURL("redis://app:s3cret@cache.internal:6379/0?pool_size=10")
	fmt.Println(errors.Is(err, kv.ErrInvalid))
	fmt.Println(err)
	// Output:
	// rediss://app:xxxxx@cache.internal:6380/2?dial_timeout=3s
	// cache.internal:6380 2 app true 3s
	// redis+sentinel://:xxxxx@10.0.0.1:26379,10.0.0.2:26380/mymaster/0: master "mymaster" from [10.0.0.1:26379 10.0.0.2:26380]
	// true
	// redisconf: invalid Redis URL "redis://app:xxxxx@cache.internal:6379/0?pool_size=xxxxx": option "pool_size": unknown; the options are addr, db, dial_timeout, read_timeout, sentinel_password, sentinel_username, skip_verify, tls_server_name, write_timeout
}
