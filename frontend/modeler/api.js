// The page's calls to the server: JSON in and out, the CSRF token in a header.
import { t, tCount } from "./i18n.js";

/** An answer the page can show: `message`, and `problems` when the server listed some. */
export class ApiError extends Error {
  constructor(message, { status = 0, problems = null } = {}) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

export function createApi(csrfToken) {
  async function call(method, url, body) {
    let response;
    try {
      response = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...(method === "GET" ? {} : { "X-CSRFToken": csrfToken }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(t("errors.network"));
    }
    const type = response.headers.get("Content-Type") || "";
    if (response.redirected || !type.includes("application/json")) {
      // The login page instead of an answer: the session ended.
      if (response.redirected || response.status === 401) {
        throw new ApiError(t("errors.session"), { status: response.status });
      }
      throw new ApiError(t("errors.server", { status: response.status }),
        { status: response.status });
    }
    const data = await response.json();
    if (response.status === 422 && Array.isArray(data.problems)) {
      throw new ApiError(tCount("errors.problems", data.problems.length),
        { status: 422, problems: data.problems });
    }
    if (!response.ok) {
      throw new ApiError(data.error || t("errors.server", { status: response.status }),
        { status: response.status });
    }
    return data;
  }

  return {
    get: (url) => call("GET", url),
    post: (url, body) => call("POST", url, body),
  };
}
