package testserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Labels on every container this package starts. scripts/test.sh removes the containers of its run
// (labelRun) on exit; a test binary removes those of dead test binaries (labelPID, labelHost).
const (
	labelTest = "org.goeventstore.test"
	labelPID  = "org.goeventstore.test.pid"
	labelHost = "org.goeventstore.test.host"
	labelKind = "org.goeventstore.test.kind"
	labelRun  = "org.goeventstore.test.run" // EVENTSTORE_TEST_RUN, set by scripts/test.sh
)

var docker struct {
	once   sync.Once
	client *testcontainers.DockerClient
	err    error
}

// dockerClient returns a client of the Docker engine, or an error saying none answers. At the first
// call it removes the containers left behind by test binaries that died.
func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	docker.once.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		tclog.SetDefault(tclog.NewNoopLogger())
		c, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err == nil {
			_, err = c.Ping(ctx, client.PingOptions{})
		}
		if err != nil {
			docker.err = err
			return
		}
		docker.client = c
		sweep(ctx, c)
	})
	return docker.client, docker.err
}

// sweep removes the containers of test binaries of this host that are no longer running.
func sweep(ctx context.Context, c *testcontainers.DockerClient) {
	host, _ := os.Hostname()
	res, err := c.ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", labelTest+"=1"),
	})
	if err != nil {
		return
	}
	for _, ctr := range res.Items {
		pid, err := strconv.Atoi(ctr.Labels[labelPID])
		if err != nil || ctr.Labels[labelHost] != host || pid == os.Getpid() || alive(pid) {
			continue
		}
		_, _ = c.ContainerRemove(ctx, ctr.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// errNoImage reports an image that is absent and cannot be pulled.
type errNoImage struct {
	image string
	err   error
}

func (e *errNoImage) Error() string {
	return fmt.Sprintf("image %s is absent and cannot be pulled (%s)", e.image, firstLine(e.err.Error()))
}

// ensureImage makes sure img is present, pulling it once if it is not.
func ensureImage(ctx context.Context, c *testcontainers.DockerClient, img string) error {
	_, err := c.ImageInspect(ctx, img)
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	resp, err := c.ImagePull(ctx, img, client.ImagePullOptions{})
	if err == nil {
		err = resp.Wait(ctx)
		resp.Close()
	}
	if err != nil {
		return &errNoImage{image: img, err: err}
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run starts a container of kind from img, its port published on 127.0.0.1 at a fixed host port
// (so that it survives Stop and Start), and returns it with that port. It does not wait for the
// server to answer.
func run(ctx context.Context, kind, img string) (testcontainers.Container, int, error) {
	sp := specs[kind]
	host, _ := os.Hostname()
	var lastErr error
	for range 3 { // another process may take the free port before Docker binds it
		port, err := freePort()
		if err != nil {
			return nil, 0, err
		}
		cport := network.MustParsePort(sp.port)
		req := testcontainers.GenericContainerRequest{
			ContainerRequest: testcontainers.ContainerRequest{
				Image:        img,
				ExposedPorts: []string{sp.port},
				Env:          sp.env,
				Cmd:          sp.cmd,
				Labels: map[string]string{
					labelTest: "1",
					labelPID:  strconv.Itoa(os.Getpid()),
					labelHost: host,
					labelKind: kind,
					labelRun:  os.Getenv("EVENTSTORE_TEST_RUN"),
				},
				HostConfigModifier: func(hc *container.HostConfig) {
					hc.PortBindings = network.PortMap{cport: {{
						HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(port),
					}}}
				},
			},
			Started: true,
			Logger:  tclog.NewNoopLogger(),
		}
		ctr, err := testcontainers.GenericContainer(ctx, req)
		if err == nil {
			return ctr, port, nil
		}
		if ctr != nil {
			_ = ctr.Terminate(context.WithoutCancel(ctx))
		}
		lastErr = err
		if !strings.Contains(err.Error(), "already allocated") && !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, 0, fmt.Errorf("start %s container from %s: %w", kind, img, lastErr)
}

// logTail returns the last lines of the container's output, for error messages.
func logTail(ctx context.Context, ctr testcontainers.Container) string {
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
