/** `issuer-callbacks` → `IssuerCallbacks`, `GET /v1/tokens/{id}` → `GetV1TokensId`: stable construct ids. */
export const pascal = (text: string): string =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
