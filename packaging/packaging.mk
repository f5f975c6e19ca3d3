# packaging.mk - Debian and RPM packages of mail2alert.
#
# Included by the top-level Makefile (include packaging/packaging.mk), or
# used without it as: make -f Makefile -f packaging/packaging.mk deb
#
#   make dist            packaging/build/mail2alert-<version>.tar.gz, the
#                        release tarball (also the Debian orig and the RPM
#                        Source0; "rpmbuild -ta" builds from it)
#   make deb             source package (.dsc, orig, debian.tar) and
#                        packaging/build/mail2alert_<version>-<rev>_<arch>.deb,
#                        both from the dist tarball
#   make deb-source      the source package alone (dpkg-buildpackage -S)
#   make rpm             packaging/build/mail2alert-<version>-<rel>.<arch>.rpm
#                        and the .src.rpm (rpmbuild -ta of the dist tarball)
#   make packages-clean  remove packaging/build (make clean does it too)
#
# The tarball holds the files git knows (uncommitted changes included; no
# build output, .git or packages), or, outside git, a copy of the tree.
# The packages build under packaging/build/, so the tree itself is never
# built in.  The package builds run the unit tests (make unit-tests) with
# WERROR= (no -Werror); the system tests need a Postfix: run "make check".
# packaging/ci-packages does it all and checks the results.

# An included file must not take over the default goal ("make" = "make all").
PKG_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

PKG_BUILD     = packaging/build
PKG_BUILD_ABS = $(CURDIR)/$(PKG_BUILD)
PKG_SRCNAME   = mail2alert-$(VERSION)
PKG_SPEC      = packaging/rpm/mail2alert.spec
# The RPM Packager header, unless ~/.rpmmacros sets %packager.
PKG_PACKAGER ?= mail2alert maintainers <maintainers@users.noreply.b-seed-ad42c6a9.example>

PKG_DIST      = $(PKG_BUILD)/$(PKG_SRCNAME).tar.gz
PKG_DEB       = $(PKG_BUILD)/deb

# Copy the source tree to $(1): the files git tracks or would track
# (working-tree contents, deleted ones left out), else everything but build
# output, VCS data and packages.
define pkg_copy_tree
	rm -rf $(1)
	mkdir -p $(1)
	if git -C $(CURDIR) rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git -C $(CURDIR) ls-files -z --cached --others --exclude-standard | \
	    (cd $(CURDIR) && xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh) | \
	    tar -C $(CURDIR) --null -T - -cf - | tar -C $(1) -xf -; \
	else \
	    tar -C $(CURDIR) --exclude=./.git --exclude=./build --exclude=./packaging/build \
	        --exclude=./mail2alert --exclude=./mail2alert.tmp --exclude=__pycache__ \
	        --exclude=.pytest_cache -cf - . | tar -C $(1) -xf -; \
	fi
endef

.PHONY: dist deb deb-source pkg_deb_tree rpm packages-clean

# Reproducible: sorted names, root owner, the changelog's date.
dist:
	rm -rf $(PKG_BUILD)/dist $(PKG_DIST)
	$(call pkg_copy_tree,$(PKG_BUILD)/dist/$(PKG_SRCNAME))
	tar -C $(PKG_BUILD)/dist --sort=name --owner=0 --group=0 --numeric-owner \
	    --mtime="$$(dpkg-parsechangelog -l packaging/debian/changelog -S Date 2>/dev/null || \
	        echo 2026-01-01)" -cf - $(PKG_SRCNAME) | gzip -9n >$(PKG_DIST).tmp
	mv -f $(PKG_DIST).tmp $(PKG_DIST)
	rm -rf $(PKG_BUILD)/dist
	@echo $(PKG_DIST)

# The dist tarball as the orig, unpacked, plus packaging/debian as debian/.
pkg_deb_tree: dist
	@for t in dpkg-buildpackage dpkg-parsechangelog dh; do \
		command -v $$t >/dev/null 2>&1 || { echo "make deb: $$t not found;" \
		    "apt-get install dpkg-dev debhelper" >&2; exit 1; }; done
	@v=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version) && \
	test "$${v%-*}" = "$(VERSION)" || { echo "make deb: packaging/debian/changelog" \
	    "is at $$v, the Makefile at $(VERSION): add a changelog entry (dch -v)" >&2; exit 1; }
	rm -rf $(PKG_DEB)
	mkdir -p $(PKG_DEB)
	cp $(PKG_DIST) $(PKG_DEB)/mail2alert_$(VERSION).orig.tar.gz
	tar -C $(PKG_DEB) -xzf $(PKG_DIST)
	cp -R packaging/debian $(PKG_DEB)/$(PKG_SRCNAME)/debian

deb-source: pkg_deb_tree
	rm -f $(PKG_BUILD)/mail2alert_*.dsc $(PKG_BUILD)/mail2alert_*.debian.tar.* \
	    $(PKG_BUILD)/mail2alert_*.orig.tar.* $(PKG_BUILD)/mail2alert_*_source.*
	cd $(PKG_DEB)/$(PKG_SRCNAME) && dpkg-buildpackage -S -us -uc -d
	rm -rf $(PKG_DEB)/$(PKG_SRCNAME)
	mv $(PKG_DEB)/mail2alert_* $(PKG_BUILD)/
	rm -rf $(PKG_DEB)
	@ls -1 $(PKG_BUILD)/mail2alert_*.dsc

deb: pkg_deb_tree
	rm -f $(PKG_BUILD)/mail2alert_* $(PKG_BUILD)/mail2alert-dbgsym_*
	cd $(PKG_DEB)/$(PKG_SRCNAME) && dpkg-buildpackage -us -uc
	rm -rf $(PKG_DEB)/$(PKG_SRCNAME)
	mv $(PKG_DEB)/mail2alert_* $(PKG_DEB)/mail2alert-dbgsym_* $(PKG_BUILD)/
	rm -rf $(PKG_DEB)
	@ls -1 $(PKG_BUILD)/mail2alert_*.deb

# Debian's rpm has no systemd macros and no find-debuginfo: load ours there.
# --nodeps: on Debian the BuildRequires are Debian packages, not RPMs.
rpm: dist
	@command -v rpmbuild >/dev/null 2>&1 || { echo "make rpm: rpmbuild not found;" \
	    "apt-get install rpm (Debian) or dnf install rpm-build" >&2; exit 1; }
	@v=$$(sed -n 's/^Version:[[:space:]]*//p' $(PKG_SPEC)) && \
	test "$$v" = "$(VERSION)" || { echo "make rpm: $(PKG_SPEC) is at $$v," \
	    "the Makefile at $(VERSION): update Version and %changelog" >&2; exit 1; }
	rm -rf $(PKG_BUILD)/rpmbuild
	rm -f $(PKG_BUILD)/mail2alert-*.rpm
	mkdir -p $(PKG_BUILD)/rpmbuild
	if [ -n "$$(rpm --eval '%{?_unitdir}')" ]; then set --; \
	else set -- --load=$(CURDIR)/packaging/rpm/macros.debian-build; fi; \
	[ -n "$$(rpm --eval '%{?packager}')" ] || set -- "$$@" --define "packager $(PKG_PACKAGER)"; \
	rpmbuild -ta --nodeps "$$@" --define "_topdir $(PKG_BUILD_ABS)/rpmbuild" $(PKG_DIST)
	mv $(PKG_BUILD)/rpmbuild/RPMS/*/mail2alert-*.rpm $(PKG_BUILD)/rpmbuild/SRPMS/mail2alert-*.src.rpm \
	    $(PKG_BUILD)/
	rm -rf $(PKG_BUILD)/rpmbuild
	@ls -1 $(PKG_BUILD)/mail2alert-*.rpm

packages-clean:
	rm -rf $(PKG_BUILD)

# "make clean" removes built packages too.
clean: packages-clean

.DEFAULT_GOAL := $(PKG_SAVED_DEFAULT_GOAL)
