export const description = "Greets someone by name";

export const inputSchema = {
  type: "object",
  properties: { name: { type: "string", description: "Who to greet" } },
  required: ["name"],
};

export const outputSchema = {
  type: "object",
  properties: { greeting: { type: "string" }, requestId: { type: "string" } },
  required: ["greeting"],
};

// args: the validated arguments; context: what context.ts returned, plus progress, log, elicit, sample
export default async function greet(args: { name: string }, context: { requestId?: string }) {
  console.log("greeting", args.name);
  return { greeting: `Hello, ${args.name}!`, requestId: context.requestId };
}
