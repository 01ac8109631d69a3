/*
 * A stand-in bcryptprimitives.dll for TESTING UNDER WINE ONLY; never shipped.
 *
 * Go 1.22 and later get random bytes from ProcessPrng in bcryptprimitives.dll,
 * which Debian 12's wine 8.0 lacks, so Go programs die at start there. This
 * DLL exports ProcessPrng and fills the buffer from RtlGenRandom
 * (advapi32!SystemFunction036), which wine has. test-windows.sh builds it
 * with mingw and copies it into a throw-away wine prefix.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, chunk))
			return FALSE;
		data += chunk;
		len -= chunk;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
	(void)inst; (void)reason; (void)reserved;
	return TRUE;
}
