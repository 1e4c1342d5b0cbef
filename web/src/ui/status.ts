/**
 * The one-line message at the bottom left, and the `data-state` attribute ("loading", "ready", "error",
 * "empty") that tests and scripts can wait on: on the page's body, or on a widget's own element.
 */

export type PageState = "starting" | "loading" | "ready" | "error" | "empty";

export class Status {
  constructor(
    private readonly element: HTMLElement,
    private readonly stateElement: HTMLElement = document.body,
  ) {}

  info(text: string, state?: PageState): void {
    this.element.textContent = text;
    this.element.classList.remove("error");
    if (state !== undefined) this.stateElement.dataset["state"] = state;
  }

  error(error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    this.element.textContent = text;
    this.element.classList.add("error");
    this.stateElement.dataset["state"] = "error";
    this.stateElement.dataset["error"] = text;
    console.error(error);
  }
}
