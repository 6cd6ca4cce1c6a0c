// Package testserver gives engine tests real database servers: MongoDB (or FerretDB on SQLite), FerretDB
// on PostgreSQL, Oracle MySQL, MariaDB, S3 (MinIO and SeaweedFS) and Azure Table Storage, each in a
// container started through testcontainers-go, or an already-running server named by an environment
// variable. The MySQL engine runs its tests on both MySQL and MariaDB (kinds MySQL and MariaDB: same URL
// forms, same driver); the S3 engine on both MinIO and SeaweedFS (kinds S3 and SeaweedFS: same URL forms,
// same credentials); the Mongo engine on both Mongo and FerretPG (same URL forms).
//
// A package's tests share one server per kind, started on first use and terminated when the test
// binary ends; each test gets storage of its own on it:
//
//	func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := testserver.Get(t, testserver.MySQL).Isolated(t) // mysql://root@127.0.0.1:PORT/DBNAME
//		...
//	}
//
// Outage tests take a server of their own with [Dedicated] and stop and restart it with
// [Server.Stop] and [Server.Start]; its URL stays valid (the host port is fixed).
//
// # URLs
//
// [Server.URL] is the base URL of a server; [Server.Isolated] returns a URL naming fresh storage:
//
//	MySQL  mysql://root@127.0.0.1:PORT/DBNAME          database created empty, dropped at cleanup
//	                                                   (MariaDB: the same form)
//	Mongo  mongodb://127.0.0.1:PORT/DBNAME             database (created on first write), dropped at cleanup
//	                                                   (FerretPG: the same form)
//	S3     s3://BUCKET?endpoint=http%3A%2F%2F127.0.0.1%3APORT&region=us-east-1&use_path_style=true&access_key_id=ID&secret_access_key=SECRET
//	                                                   bucket created empty; emptied and removed at cleanup
//	                                                   (SeaweedFS: the same form)
//	Azure  azuretables://TABLE?endpoint=http%3A%2F%2F127.0.0.1%3APORT%2Fdevstoreaccount1&account=devstoreaccount1&account_key=KEY
//	                                                   table NOT created (the engine creates it); every table
//	                                                   whose name starts with TABLE is deleted at cleanup, so an
//	                                                   engine may use TABLE as a prefix for several tables
//
// The base URLs are the same without the database, bucket or table (s3://?endpoint=...,
// azuretables://?endpoint=...). Query values are URL-escaped; parse them with net/url. S3 must be
// addressed path-style. The Azure endpoint is the table service URL of the account (Azurite puts the
// account name in the path); account_key is the account's base64 shared key.
//
// # Environment
//
//	EVENTSTORE_TEST_REQUIRE        "all", or a comma-separated list of kinds (mongo,ferretpg,mysql,mariadb,s3,seaweedfs,azure):
//	                               a server of such a kind that cannot be had FAILS the test instead of
//	                               skipping it. CI sets "all".
//	EVENTSTORE_<KIND>_URL          use this running server (base URL in the forms above, any host);
//	                               no container is started. KIND is MONGO, FERRETPG, MYSQL, MARIADB, S3,
//	                               SEAWEEDFS or AZURE.
//	EVENTSTORE_<KIND>_IMAGE        run this image instead of the default one: mysql:8.4,
//	                               mariadb:10.11, mongo:8.0, minio/minio:RELEASE.2025-04-22T22-12-26Z,
//	                               chrislusf/seaweedfs:4.53, mcr.microsoft.com/azure-storage/azurite:3.37.0;
//	                               FerretPG has no official image: its default is the substitute.
//
// When the default image is absent and cannot be pulled, the local substitute that
// scripts/test-images.sh builds (goeventstore/ferretdb:1.24.0-sqlite,
// goeventstore/ferretdb:1.24.0-postgresql, goeventstore/mysql:9.7,
// goeventstore/mariadb:10.11, goeventstore/minio:local, goeventstore/seaweedfs:4.53,
// goeventstore/azurite:3.37.0) is run instead if it is present.
//
// Without a Docker engine and without EVENTSTORE_<KIND>_URL, or when the image is absent and cannot be
// pulled, a test asking for the server skips with one line saying how to enable it (or fails, see
// EVENTSTORE_TEST_REQUIRE). `make test` starts a Docker engine if it can and builds local substitute
// images when the official ones cannot be pulled; see docs/testing.md.
//
// The package sets TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 and TESTCONTAINERS_RYUK_DISABLED=true when
// they are unset, so that testcontainers only ever dials loopback and needs no reaper image. Every
// container carries the label org.goeventstore.test=1 (and the pid of the test binary), publishes its
// port on 127.0.0.1 only, and is removed by Main, by the cleanup of the test that owns it, or, after a
// crash, by the next test binary that starts a container (containers of dead test processes) and by
// scripts/test.sh on exit.
package testserver
