//go:build tools

// Package tools pins dex, the OpenID Connect provider the portal's sign-in tests run.
package tools

import _ "github.com/dexidp/dex/cmd/dex"
