#!/bin/bash
# Builds and notarises the Acme Dental kiosk app on acme-mac-build (macOS 12, Xcode 14).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd -P)
SCRIPT=$(readlink -f "$0")
BUILD_DIR="$ROOT/build"
VERSION=$(git -C "$ROOT" describe --tags --abbrev=0)
JOBS=$(nproc)

# Stamp the version into the plist and the about screen.
/usr/libexec/PlistBuddy -c "Set :CFBundleShortVersionString $VERSION" "$ROOT/Kiosk/Info.plist"
sed -i "s/^let appVersion = .*/let appVersion = \"$VERSION\"/" "$ROOT/Kiosk/About.swift"

declare -A ARCH_TRIPLES=([arm64]=arm64-apple-macos12 [x86_64]=x86_64-apple-macos12)

for arch in "${!ARCH_TRIPLES[@]}"; do
    xcodebuild -project "$ROOT/Kiosk.xcodeproj" -scheme Kiosk -configuration Release \
        -arch "$arch" -derivedDataPath "$BUILD_DIR/$arch" -jobs "$JOBS" build
done

lipo -create -output "$BUILD_DIR/Kiosk" "$BUILD_DIR"/*/Build/Products/Release/Kiosk.app/Contents/MacOS/Kiosk

# Release notes cover the last 14 days.
SINCE=$(date -d '14 days ago' +%Y-%m-%d)
git -C "$ROOT" log --since="$SINCE" --pretty='- %s' > "$BUILD_DIR/NOTES.md"

ditto -c -k --keepParent "$BUILD_DIR/Kiosk" "$BUILD_DIR/Kiosk-$VERSION.zip"
sha256sum "$BUILD_DIR/Kiosk-$VERSION.zip" > "$BUILD_DIR/Kiosk-$VERSION.zip.sha256"
SIZE=$(stat -f %z "$BUILD_DIR/Kiosk-$VERSION.zip")
echo "built $SCRIPT $VERSION ($SIZE bytes)"

xcrun notarytool submit "$BUILD_DIR/Kiosk-$VERSION.zip" --keychain-profile acme-notary --wait
