/** The page shown without a token: one field, submitted as `?token=` (no script needed). */
export function loginPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mitmts: log in</title>
<style>body{font:14px system-ui,sans-serif;margin:15vh auto;max-width:28em;color:#222}
input{font:inherit;padding:.4em;width:100%;box-sizing:border-box}button{font:inherit;margin-top:.6em;padding:.4em 1em}</style>
</head><body>
<h1>mitmts web UI</h1>
<p>This web UI needs the token printed when mitmts started (the whole URL contains it), or the <code>web_password</code> option's value.</p>
<form method="get" action="/" id="login"><label>Token <input name="token" type="password" autofocus autocomplete="current-password"></label>
<button type="submit">Open</button></form>
</body></html>
`;
}
