/**
 * Tool sources shared by the suites of tools that ask the client.
 */

/** Asks a name, samples a greeting for it, and answers with an image and text through the mcp.* helpers. */
export const ASK_SAMPLE_PICTURE = `const DOT = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
export default async (input, context) => {
  const who = await context.elicit({ message: "Who are you?", requestedSchema: { type: "object", properties: { name: { type: "string", default: "Ada" } }, required: ["name"] } });
  const said = await context.sample({ messages: [{ role: "user", content: { type: "text", text: "Greet " + who.content.name } }], maxTokens: 40 });
  return mcp.result({ content: [mcp.image(DOT, "image/png"), mcp.text("greeting for " + who.content.name + ": " + said.content.text)] });
}`;
