# packaging.mk - Debian and RPM packages of mail2alert.
#
# Included by the top-level Makefile (include packaging/packaging.mk), or
# used without it as: make -f Makefile -f packaging/packaging.mk deb
#
#   make deb             packaging/build/mail2alert_<version>-<rev>_<arch>.deb
#   make rpm             packaging/build/mail2alert-<version>-<rel>.<arch>.rpm
#                        and the .src.rpm
#   make packages-clean  remove packaging/build (make clean does it too)
#
# Both build from a copy of the working tree (uncommitted changes included;
# build output, .git and earlier packages left out) under packaging/build/,
# so the tree itself is never built in or written to.  Neither runs the test
# suite: run "make check" first.  packaging/ci-packages does it all and
# checks the results.

# An included file must not take over the default goal ("make" = "make all").
PKG_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

PKG_BUILD     = packaging/build
PKG_BUILD_ABS = $(CURDIR)/$(PKG_BUILD)
PKG_SRCNAME   = mail2alert-$(VERSION)
PKG_SPEC      = packaging/rpm/mail2alert.spec
# The RPM Packager header, unless ~/.rpmmacros sets %packager.
PKG_PACKAGER ?= mail2alert maintainers <maintainers@users.noreply.b-seed-ad42c6a9.example>

# Copy the working tree to $(1), without build output, VCS data or packages.
define pkg_copy_tree
	rm -rf $(1)
	mkdir -p $(1)
	tar -C $(CURDIR) --exclude=./.git --exclude=./build --exclude=./packaging/build \
	    --exclude=./mail2alert --exclude=./mail2alert.tmp --exclude=__pycache__ \
	    --exclude=.pytest_cache -cf - . | tar -C $(1) -xf -
endef

.PHONY: deb rpm packages-clean

deb:
	@for t in dpkg-buildpackage dpkg-parsechangelog dh; do \
		command -v $$t >/dev/null 2>&1 || { echo "make deb: $$t not found;" \
		    "apt-get install dpkg-dev debhelper" >&2; exit 1; }; done
	@v=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version) && \
	test "$${v%-*}" = "$(VERSION)" || { echo "make deb: packaging/debian/changelog" \
	    "is at $$v, the Makefile at $(VERSION): add a changelog entry (dch -v)" >&2; exit 1; }
	rm -f $(PKG_BUILD)/mail2alert_* $(PKG_BUILD)/mail2alert-dbgsym_*
	$(call pkg_copy_tree,$(PKG_BUILD)/$(PKG_SRCNAME))
	cp -R packaging/debian $(PKG_BUILD)/$(PKG_SRCNAME)/debian
	cd $(PKG_BUILD)/$(PKG_SRCNAME) && dpkg-buildpackage -us -uc -b
	rm -rf $(PKG_BUILD)/$(PKG_SRCNAME)
	@ls -1 $(PKG_BUILD)/mail2alert_*.deb

# Debian's rpm has no systemd macros and no find-debuginfo: load ours there.
rpm:
	@command -v rpmbuild >/dev/null 2>&1 || { echo "make rpm: rpmbuild not found;" \
	    "apt-get install rpm (Debian) or dnf install rpm-build" >&2; exit 1; }
	@v=$$(sed -n 's/^Version:[[:space:]]*//p' $(PKG_SPEC)) && \
	test "$$v" = "$(VERSION)" || { echo "make rpm: $(PKG_SPEC) is at $$v," \
	    "the Makefile at $(VERSION): update Version and %changelog" >&2; exit 1; }
	rm -rf $(PKG_BUILD)/rpmbuild
	rm -f $(PKG_BUILD)/mail2alert-*.rpm
	mkdir -p $(PKG_BUILD)/rpmbuild/SOURCES
	$(call pkg_copy_tree,$(PKG_BUILD)/rpmbuild/tree/$(PKG_SRCNAME))
	tar -C $(PKG_BUILD)/rpmbuild/tree --owner=0 --group=0 -czf \
	    $(PKG_BUILD)/rpmbuild/SOURCES/$(PKG_SRCNAME).tar.gz $(PKG_SRCNAME)
	if [ -n "$$(rpm --eval '%{?_unitdir}')" ]; then set --; \
	else set -- --load=$(CURDIR)/packaging/rpm/macros.debian-build; fi; \
	[ -n "$$(rpm --eval '%{?packager}')" ] || set -- "$$@" --define "packager $(PKG_PACKAGER)"; \
	rpmbuild -ba --nodeps "$$@" --define "_topdir $(PKG_BUILD_ABS)/rpmbuild" $(PKG_SPEC)
	mv $(PKG_BUILD)/rpmbuild/RPMS/*/mail2alert-*.rpm $(PKG_BUILD)/rpmbuild/SRPMS/mail2alert-*.src.rpm \
	    $(PKG_BUILD)/
	rm -rf $(PKG_BUILD)/rpmbuild
	@ls -1 $(PKG_BUILD)/mail2alert-*.rpm

packages-clean:
	rm -rf $(PKG_BUILD)

# "make clean" removes built packages too.
clean: packages-clean

.DEFAULT_GOAL := $(PKG_SAVED_DEFAULT_GOAL)
