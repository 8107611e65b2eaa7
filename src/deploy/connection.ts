/**
 * How to connect to a deployed server: its endpoint, and the Claude Desktop /
 * Cursor config through mcp-remote (README "Connecting MCP clients"). The token
 * is printed only when the platform just issued it (it is shown once); otherwise
 * the lines say how to issue a new one.
 */

/** The lines that end a deploy's output. */
export function connectionLines(o: { url: string; slug: string; serverId: string; endpoint: string; token?: string }): string[] {
  // mcp-remote expands ${TOKEN} in its arguments from the env block, so the token sits in one place
  const config = {
    mcpServers: {
      [o.slug]: {
        command: "npx",
        args: ["-y", "mcp-remote", o.endpoint, "--header", "Authorization: Bearer ${TOKEN}"],
        env: { TOKEN: o.token ?? "mcp_… (the server's token)" },
      },
    },
  };
  const rotate = `curl -X POST ${o.url}/api/v1/mcp/servers/${o.serverId}/regenerate-token -H "Authorization: Bearer $DZX_API_KEY"`;
  return [
    "",
    `Endpoint: ${o.endpoint}`,
    ...(o.token
      ? [`Token (shown once, store it now): ${o.token}`]
      : [`Token: shown once, when the server was created. To issue a new one (the old one stops working at once):`, `  ${rotate}`]),
    "",
    "Claude Desktop (claude_desktop_config.json) or Cursor (.cursor/mcp.json):",
    JSON.stringify(config, null, 2),
  ];
}
