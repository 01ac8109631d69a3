# build/dist.mk: release artifacts. Included by the top-level Makefile.
# See build/README.md for what each target makes and needs.

NFPM       ?= $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
GOWINRES   ?= $(GO) run github.com/tc-hib/go-winres@v0.3.3
ACTIONLINT ?= $(GO) run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
DIST       := dist
WORK       := $(DIST)/.work
# PKG_VERSION suits deb, rpm, Arch and file names; WIN_VERSION is the numeric
# a.b.c.d that Windows resources and MSI need (build/version.sh explains both).
PKG_VERSION := $(shell sh build/version.sh pkg '$(VERSION)')
WIN_VERSION := $(shell sh build/version.sh win '$(VERSION)')
LINUX_ARCHES   := amd64 arm64
WINDOWS_ARCHES := amd64 arm64
# Never export GOARCH for the whole make run: "go run nfpm" would then build
# nfpm itself for that arch. Each build sets it on its own command line.
DIST_LDFLAGS = -s -w -X main.version=$(VERSION)

.PHONY: dist-force dist dist-linux dist-windows dist-sums dist-check verify-dist test-windows

dist: ## build every installer this Linux machine can make into dist/, with SHA256SUMS
	rm -rf $(DIST)
	@mkdir -p $(WORK)
	@# Later commits must not change the version half way: pin it for the sub-makes,
	@# and record it for verify-dist and test-windows.
	echo '$(VERSION)' > $(WORK)/version
	$(MAKE) --no-print-directory VERSION='$(VERSION)' dist-linux dist-windows
	$(MAKE) --no-print-directory VERSION='$(VERSION)' dist-sums
	@echo "dist: $(PKG_VERSION) ($(VERSION))"; ls -l $(DIST)

dist-linux: $(LINUX_ARCHES:%=$(WORK)/linux-%/bore) $(WORK)/changelog.gz
	@for arch in $(LINUX_ARCHES); do \
	  sed -e "s|@ARCH@|$$arch|" -e "s|@VERSION@|$(PKG_VERSION)|" \
	      -e "s|@BIN@|$(WORK)/linux-$$arch/bore|" -e "s|@CHANGELOG@|$(WORK)/changelog.gz|" \
	      build/linux/nfpm.yaml > $(WORK)/nfpm-$$arch.yaml || exit 1; \
	  for fmt in deb rpm archlinux; do \
	    $(NFPM) package --config $(WORK)/nfpm-$$arch.yaml --packager $$fmt --target $(DIST)/ || exit 1; \
	  done; \
	  tar -C $(WORK)/linux-$$arch -czf $(DIST)/bore_$(PKG_VERSION)_linux_$$arch.tar.gz --owner=0 --group=0 \
	      bore || exit 1; \
	done

$(WORK)/linux-%/bore: dist-force
	@mkdir -p $(@D)
	CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build -trimpath -ldflags "$(DIST_LDFLAGS)" -o $@ .

$(WORK)/changelog.gz: build/linux/changelog
	@mkdir -p $(@D)
	gzip -9n < $< > $@

# Windows: icon, manifest and version info go into a .syso in the repo root
# while building (go build picks it up), and are removed right after.
$(WORK)/windows-%/bore.exe: dist-force
	@mkdir -p $(@D)
	$(GOWINRES) make --in build/windows/winres.json --out rsrc --arch $* \
	    --product-version $(WIN_VERSION) --file-version $(WIN_VERSION)
	CGO_ENABLED=0 GOOS=windows GOARCH=$* $(GO) build -trimpath -ldflags "$(DIST_LDFLAGS) -H=windowsgui" -o $@ . ; \
	  rc=$$?; rm -f rsrc_windows_$*.syso; exit $$rc
	sh build/windows/sign.sh $@

dist-windows: $(WINDOWS_ARCHES:%=$(WORK)/windows-%/bore.exe)
	makensis -V2 -DVERSION=$(PKG_VERSION) -DWIN_VERSION=$(WIN_VERSION) \
	    -DEXE=$(CURDIR)/$(WORK)/windows-amd64/bore.exe -DICON=$(CURDIR)/assets/icons/bore.ico \
	    -DOUTFILE=$(CURDIR)/$(DIST)/bore_$(PKG_VERSION)_windows_amd64_setup.exe \
	    -DSIGN=$(CURDIR)/build/windows/sign.sh build/windows/bore.nsi
	wixl -a x64 -D Version=$(WIN_VERSION) -D Exe=$(WORK)/windows-amd64/bore.exe \
	    -D Icon=assets/icons/bore.ico -o $(DIST)/bore_$(PKG_VERSION)_windows_amd64.msi build/windows/bore.wxs
	sh build/windows/sign.sh $(DIST)/bore_$(PKG_VERSION)_windows_amd64.msi
	@for arch in $(WINDOWS_ARCHES); do \
	  rm -f $(DIST)/bore_$(PKG_VERSION)_windows_$$arch.zip; \
	  (cd $(WORK)/windows-$$arch && zip -q -X -9 $(CURDIR)/$(DIST)/bore_$(PKG_VERSION)_windows_$$arch.zip bore.exe) || exit 1; \
	done

dist-sums:
	cd $(DIST) && find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS

dist-check: ## lint packaging files: workflows, .desktop, metainfo, Info.plist, versions, signing
	sh build/version.sh selftest
	$(ACTIONLINT) -no-color .github/workflows/*.yml
	desktop-file-validate build/linux/io.github.boretray.bore.desktop
	appstreamcli validate --no-net build/linux/io.github.boretray.bore.metainfo.xml
	sh build/macos/check-app.sh
	sh build/windows/test-sign.sh

verify-dist: ## install, run and remove the packages in dist/ (root; changes this system)
	sh build/verify-dist.sh $(DIST)

test-windows: ## install, run and uninstall the Windows installers under wine
	sh build/windows/test-windows.sh $(DIST)

dist-force:
