# make test: every package's tests, including every engine's acceptance suite against real servers
# (a Docker engine and the server images are set up first when possible). See docs/testing.md.

.PHONY: test images docker vet

test:
	scripts/test.sh

# The pieces of `make test`, one at a time.
docker:
	scripts/docker-up.sh
images: docker
	scripts/test-images.sh
vet:
	go vet ./...
