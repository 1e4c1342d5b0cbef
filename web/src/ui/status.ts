/**
 * The one-line message at the bottom left, and `document.body.dataset.state` ("loading", "ready", "error",
 * "empty") that tests and scripts can wait on.
 */

export type PageState = "starting" | "loading" | "ready" | "error" | "empty";

export class Status {
  constructor(private readonly element: HTMLElement) {}

  info(text: string, state?: PageState): void {
    this.element.textContent = text;
    this.element.classList.remove("error");
    if (state !== undefined) document.body.dataset["state"] = state;
  }

  error(error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    this.element.textContent = text;
    this.element.classList.add("error");
    document.body.dataset["state"] = "error";
    document.body.dataset["error"] = text;
    console.error(error);
  }
}
