/** The pages' languages and display modes: the message catalogue and the request's choice. */
export { everyText, errorAdvice, adviceOf, pageMessages, plainWording, textOf, type MessageKey, type Text } from './messages.ts';
export { currentLocale, currentPresentation, defaultPresentation, localeOf, localeOfUiLocales, locales, withPresentation, type DisplayMode, type Locale, type Presentation } from './presentation.ts';
export { fillPlaceholders, localized, t } from './translate.ts';
export { choosePresentation, safeReturnPath, type PresentationOptions } from './choose.ts';
