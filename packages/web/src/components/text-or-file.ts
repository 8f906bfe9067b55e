import { useRef, useState, type ChangeEvent } from 'react';

/** A text a form takes, and the name of the file it was read from (null when typed or pasted). */
export interface TextSource {
  file: string | null;
  text: string;
}

/**
 * A text a form takes from a chosen file or typed into a textarea (a .env file, a YAML file): `chooseFile` and
 * `type` are the two inputs' change handlers, `fileInput` the file input's ref. Choosing a file drops the text
 * typed before and reads the file's (a read of a file chosen before is dropped); typing drops the chosen file.
 * `unreadable` is why the chosen file could not be read. `onChange` is told of every new source.
 */
export function useTextOrFile(onChange?: (source: TextSource) => void) {
  const [source, setSource] = useState<TextSource>({ file: null, text: '' });
  const [unreadable, setUnreadable] = useState<unknown>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  // The file whose text is being read: the read of a file chosen before it is dropped.
  const reading = useRef<File | null>(null);
  const change = (next: TextSource) => {
    setSource(next);
    onChange?.(next);
  };

  const chooseFile = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0] ?? null;
    reading.current = file;
    setUnreadable(null);
    change({ file: null, text: '' });
    if (!file) return;
    file.text().then(
      (text) => {
        if (reading.current === file) change({ file: file.name, text });
      },
      (error: unknown) => {
        if (reading.current === file) setUnreadable(new Error(`Cannot read ${file.name}: ${String(error)}`));
      },
    );
  };

  const type = (event: ChangeEvent<HTMLTextAreaElement>) => {
    reading.current = null;
    setUnreadable(null);
    if (fileInput.current) fileInput.current.value = '';
    change({ file: null, text: event.target.value });
  };

  /** Forgets the text and the chosen file (a read under way is dropped); `onChange` is not told. */
  const clear = () => {
    reading.current = null;
    setUnreadable(null);
    if (fileInput.current) fileInput.current.value = '';
    setSource({ file: null, text: '' });
  };

  return { source, unreadable, fileInput, chooseFile, type, clear };
}
