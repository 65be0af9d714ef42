// A customer's and a staff member's day, through a client generated from the served schema.
// `schema.d.ts` is generated at test time (openapi-typescript); `tsc --strict` checks this file
// against it, so a field renamed on the server breaks the build, and node then runs the journeys
// against a live server, so a schema that lies about a status or a body fails at run time.
import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const baseUrl = required("BOOKSTORE_URL");
const PASSWORD = "Plenty-of-entropy-42";
const ADDRESS = {
  full_name: "Ada Lovelace",
  line1: "12 St James's Square",
  city: "London",
  postal_code: "SW1Y 4JH",
  country: "GB",
  phone: "+44 20 7946 0000",
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`journey: ${message}`);
}

function expectStatus(response: Response, status: number, body: unknown): void {
  check(response.status === status, `${response.url}: ${response.status} (wanted ${status}) ${JSON.stringify(body)}`);
}

const anonymous = createClient<paths>({ baseUrl });

function signedIn(access: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${access}` } });
}

async function logIn(email: string, password: string): Promise<string> {
  const { data, error, response } = await anonymous.POST("/api/v1/auth/token", { body: { email, password } });
  expectStatus(response, 200, error);
  check(data, "no token pair");
  return data.access;
}

async function customerJourney(): Promise<void> {
  const email = `ts-reader-${Date.now()}@example.com`;
  const registered = await anonymous.POST("/api/v1/auth/register", {
    body: { email, password: PASSWORD, first_name: "Ada" },
  });
  expectStatus(registered.response, 201, registered.error);
  check(registered.data?.email === email && registered.data.is_staff === false, "profile after register");

  const customer = signedIn(await logIn(email, PASSWORD));
  const me = await customer.GET("/api/v1/auth/me");
  expectStatus(me.response, 200, me.error);
  check(me.data?.id === registered.data.id, "me is the registered user");

  // Search, and a list in one comma-separated ordering.
  const found = await customer.GET("/api/v1/books", { params: { query: { search: "earthsea" } } });
  expectStatus(found.response, 200, found.error);
  const book = found.data?.results[0];
  check(book && book.title === "A Wizard of Earthsea", `search found ${JSON.stringify(found.data)}`);
  check(book.authors[0]?.name === "Ursula K. Le Guin", "the book's author");
  const ordered = await anonymous.GET("/api/v1/books", { params: { query: { ordering: "-price,title" } } });
  expectStatus(ordered.response, 200, ordered.error);
  const prices = (ordered.data?.results ?? []).map((listed) => Number(listed.price));
  check(prices.length >= 2 && prices.every((p, i) => i === 0 || p <= (prices[i - 1] ?? p)), "ordered by -price");

  // Cart: a line, and more than the stock is a 409 with machine-readable details.
  const added = await customer.POST("/api/v1/cart/items", { body: { book_id: book.id, quantity: 2 } });
  expectStatus(added.response, 201, added.error);
  check(added.data?.items[0]?.quantity === 2 && added.data.currency === "USD", "cart line");
  const tooMany = await customer.POST("/api/v1/cart/items", { body: { book_id: book.id, quantity: 50 } });
  expectStatus(tooMany.response, 409, tooMany.error ?? tooMany.data);
  const shortage = tooMany.error?.errors[0];
  check(shortage?.code === "insufficient_stock" && shortage.meta?.["book_id"] === book.id, "insufficient_stock meta");

  // Checkout with an Idempotency-Key, and its replay: the same order.
  const key = `ts-journey-${Date.now()}`;
  const checkout = { shipping_address: ADDRESS };
  const placed = await customer.POST("/api/v1/orders", {
    body: checkout,
    params: { header: { "Idempotency-Key": key } },
  });
  expectStatus(placed.response, 201, placed.error);
  const order = placed.data;
  check(order && order.status === "pending" && order.items[0]?.quantity === 2, "placed order");
  check(order.shipping_address.city === "London" && order.currency === "USD", "order address and currency");
  const replay = await customer.POST("/api/v1/orders", {
    body: checkout,
    params: { header: { "Idempotency-Key": key } },
  });
  expectStatus(replay.response, 201, replay.error);
  check(replay.data?.id === order.id && replay.data.number === order.number, "replay returns the same order");
  const cart = await customer.GET("/api/v1/cart");
  check(cart.data?.items.length === 0 && cart.data.total_quantity === 0, "cart emptied by checkout");

  // Orders, one of them, cancel it, and a second cancel is a 409.
  const orders = await customer.GET("/api/v1/orders");
  expectStatus(orders.response, 200, orders.error);
  check(orders.data?.results.map((listed) => listed.number).join() === order.number, "order history");
  const seen = await customer.GET("/api/v1/orders/{id}", { params: { path: { id: order.id } } });
  check(seen.data?.total === order.total, "order detail");
  const cancelled = await customer.POST("/api/v1/orders/{id}/cancel", { params: { path: { id: order.id } } });
  expectStatus(cancelled.response, 200, cancelled.error);
  check(cancelled.data?.status === "cancelled", "cancelled");
  check(cancelled.data.status_history.at(-1)?.status === "cancelled", "status history");
  const again = await customer.POST("/api/v1/orders/{id}/cancel", { params: { path: { id: order.id } } });
  expectStatus(again.response, 409, again.error ?? again.data);
  check(again.error?.errors[0]?.code === "invalid_transition", "second cancel");
  check(order.order_token === undefined, "a signed-in customer's order has no order token");

  // A guest: an anonymous cart, a checkout with an email and an Idempotency-Key, the order token.
  const guestCart = await anonymous.POST("/api/v1/cart/items", { body: { book_id: book.id, quantity: 1 } });
  expectStatus(guestCart.response, 201, guestCart.error);
  const cartToken = guestCart.data?.cart_token ?? "";
  const guestCheckout = {
    body: { shipping_address: ADDRESS, email: "guest@example.com" },
    params: { header: { "Cart-Token": cartToken, "Idempotency-Key": `${key}-guest` } },
  };
  const guestOrder = await anonymous.POST("/api/v1/orders", guestCheckout);
  expectStatus(guestOrder.response, 201, guestOrder.error);
  const orderToken: string = guestOrder.data?.order_token ?? "";
  check(orderToken.length >= 43, "a guest's order token");
  const guestReplay = await anonymous.POST("/api/v1/orders", guestCheckout);
  expectStatus(guestReplay.response, 201, guestReplay.error);
  check(guestReplay.data?.order_token === orderToken, "a guest's replay returns the same order token");
  const opened = await anonymous.GET("/api/v1/orders/{id}", {
    params: { path: { id: guestOrder.data?.id ?? 0 }, header: { "Order-Token": orderToken } },
  });
  expectStatus(opened.response, 200, opened.error);
}

async function staffJourney(): Promise<void> {
  const staff = signedIn(await logIn(required("STAFF_EMAIL"), required("STAFF_PASSWORD")));
  const author = await staff.POST("/api/v1/authors", { body: { name: "Octavia E. Butler" } });
  expectStatus(author.response, 201, author.error);
  check(author.data && author.data.bio === "", "an author's bio is always there");
  const created = await staff.POST("/api/v1/books", {
    body: {
      isbn: "978-0-446-67550-5",
      title: "Parable of the Sower",
      author_ids: [author.data.id],
      language: "en",
      format: "paperback",
      price: "15.99",
      stock: 4,
    },
  });
  expectStatus(created.response, 201, created.error);
  const book = created.data;
  check(book && book.isbn === "9780446675505" && book.price === "15.99" && book.cover_url === null, "new book");

  // A float is not money: the price is a decimal string.
  const floatPrice = await staff.PATCH("/api/v1/books/{id}", {
    params: { path: { id: book.id } },
    body: { price: 12.5 as unknown as string },
  });
  expectStatus(floatPrice.response, 400, floatPrice.error ?? floatPrice.data);
  check(floatPrice.error?.errors[0]?.attr === "price", "float price refused");

  // The cover: a binary file in a multipart body.
  const png = readFileSync(required("COVER_PATH"));
  const covered = await staff.PUT("/api/v1/books/{id}/cover", {
    params: { path: { id: book.id } },
    body: { image: "cover.png" },
    bodySerializer: (body) => {
      const form = new FormData();
      form.append("image", new Blob([png], { type: "image/png" }), body.image);
      return form;
    },
  });
  expectStatus(covered.response, 200, covered.error);
  check(covered.data?.cover_url?.startsWith("http"), `cover url ${covered.data?.cover_url}`);

  const withdrawn = await staff.DELETE("/api/v1/books/{id}", { params: { path: { id: book.id } } });
  expectStatus(withdrawn.response, 204, withdrawn.error);
  const gone = await anonymous.GET("/api/v1/books/{id}", { params: { path: { id: book.id } } });
  expectStatus(gone.response, 404, gone.error ?? gone.data);
  check(gone.error?.errors[0]?.code === "not_found", "withdrawn book is 404");
}

await customerJourney();
await staffJourney();
console.log("journeys: ok");
